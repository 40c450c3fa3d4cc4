package io.github.groupnorm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/perf.md's kernel-resources table against the ptxas report this build wrote (native/build-ptx.sh): the
 * registers and static shared memory it states for each kernel are the build's, every kernel is in it, and no
 * kernel spills. Hand-written tables drift when kernels change; this makes the drift a test failure.
 */
class KernelResourcesDocTest {
    private static final Path REPORT = Path.of("target", "ptxas-report-sm_90.txt");
    private static final Path DOC = Path.of("docs", "perf.md");
    private static final String[] SUFFIXES = {"_f32", "_f16", "_bf16"};
    /** A row of the report's occupancy table: kernel, threads, registers, static smem. */
    private static final Pattern REPORT_ROW = Pattern.compile(
            "^(groupnorm_\\w+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+) B\\s+(yes|no)\\s+(\\d+)\\s+(\\d+)%.*$", Pattern.MULTILINE);
    /** A row of the doc's table: kernel, registers (one, or fp32 / fp16 / bf16), static smem, spill bytes. */
    private static final Pattern DOC_ROW = Pattern.compile(
            "^\\| (groupnorm_\\w+) \\| ([\\d /]+) \\| (\\d+) B \\| (\\d+) \\|.*$", Pattern.MULTILINE);

    private static String report;
    private static String docSection;

    @BeforeAll
    static void read() throws IOException {
        Assumptions.assumeTrue(Files.isRegularFile(REPORT), "SKIPPED: no " + REPORT + ": the build made no ptxas"
                + " report (it needs nvcc)");
        report = Files.readString(REPORT, StandardCharsets.UTF_8);
        String doc = Files.readString(DOC, StandardCharsets.UTF_8);
        int start = doc.indexOf("## Kernel resources");
        assertTrue(start >= 0, DOC + " has no '## Kernel resources' section");
        int end = doc.indexOf("\n## ", start + 1);
        docSection = doc.substring(start, end < 0 ? doc.length() : end);
        Matcher built = Pattern.compile("cuda_(\\d+\\.\\d+)").matcher(report);
        Matcher stated = Pattern.compile("nvcc (\\d+\\.\\d+)").matcher(docSection);
        assertTrue(built.find(), "the report names no nvcc release: " + report.lines().findFirst().orElse(""));
        assertTrue(stated.find(), "the doc's kernel-resources heading names no nvcc release");
        Assumptions.assumeTrue(built.group(1).equals(stated.group(1)), "SKIPPED: the doc's table is for nvcc "
                + stated.group(1) + ", this build used " + built.group(1));
    }

    /** Per kernel of the report: registers, static smem bytes, threads (the launch bound), occupancy %. */
    private static Map<String, int[]> reportRows() {
        Map<String, int[]> rows = new LinkedHashMap<>();
        Matcher m = REPORT_ROW.matcher(report);
        while (m.find()) {
            rows.put(m.group(1), new int[] {Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)),
                Integer.parseInt(m.group(2)), Integer.parseInt(m.group(7))});
        }
        assertTrue(rows.size() > 20, "the report's occupancy tables list only " + rows.size() + " kernels");
        return rows;
    }

    /** A doc row's kernel names: the family with each storage suffix when it gives three register counts. */
    private static List<String> kernels(String family, int counts) {
        List<String> names = new ArrayList<>();
        if (counts == 1) {
            names.add(family);
        } else {
            for (String s : SUFFIXES) {
                names.add(family + s);
            }
        }
        return names;
    }

    @Test
    void theDocStatesTheRegistersAndStaticSharedMemoryOfThisBuild() {
        Map<String, int[]> built = reportRows();
        List<String> wrong = new ArrayList<>();
        Matcher m = DOC_ROW.matcher(docSection);
        int rows = 0;
        while (m.find()) {
            rows++;
            String[] regs = m.group(2).trim().split("\\s*/\\s*");
            int smem = Integer.parseInt(m.group(3));
            List<String> names = kernels(m.group(1), regs.length);
            for (int i = 0; i < names.size(); i++) {
                int[] b = built.get(names.get(i));
                if (b == null) {
                    wrong.add(names.get(i) + ": in the doc, not in the report");
                } else if (b[0] != Integer.parseInt(regs[i]) || b[1] != smem) {
                    wrong.add(String.format("%s: doc says %s registers and %d B static smem, the build %d and %d B",
                            names.get(i), regs[i], smem, b[0], b[1]));
                }
            }
            assertEquals("0", m.group(4), m.group(1) + ": the doc's spill column");
        }
        assertTrue(rows > 10, "found only " + rows + " rows in the doc's kernel-resources table");
        assertTrue(wrong.isEmpty(), "docs/perf.md is out of date with " + REPORT + " (update the table):\n"
                + String.join("\n", wrong));
    }

    /**
     * Where the doc's typical block is the kernel's launch bound, its occupancy column must be the report's (the
     * report computes it at the bound; other rows' blocks differ, and are not checked).
     */
    @Test
    void theDocStatesTheOccupancyOfThisBuildWhereItsBlockIsTheBound() {
        Map<String, int[]> built = reportRows();
        Matcher m = Pattern.compile("^\\| (groupnorm_\\w+) \\| ([\\d /]+) \\| \\d+ B \\| \\d+ \\| (\\d+) \\| ([\\d% /]+) \\|$",
                Pattern.MULTILINE).matcher(docSection);
        List<String> wrong = new ArrayList<>();
        int compared = 0;
        while (m.find()) {
            int block = Integer.parseInt(m.group(3));
            String[] occupancy = m.group(4).trim().split("\\s*/\\s*");
            List<String> names = kernels(m.group(1), occupancy.length);
            for (int i = 0; i < names.size(); i++) {
                int[] b = built.get(names.get(i));
                if (b == null || b[2] != block) {
                    continue;
                }
                compared++;
                int stated = Integer.parseInt(occupancy[i].replace("%", ""));
                if (stated != b[3]) {
                    wrong.add(String.format("%s at %d threads: doc says %d%%, the report %d%%", names.get(i), block,
                            stated, b[3]));
                }
            }
        }
        assertTrue(compared >= 10, "compared only " + compared + " occupancies");
        assertTrue(wrong.isEmpty(), "docs/perf.md's occupancy is out of date with " + REPORT + ":\n"
                + String.join("\n", wrong));
    }

    @Test
    void everyKernelOfTheBuildIsInTheDoc() {
        TreeSet<String> missing = new TreeSet<>();
        for (String k : reportRows().keySet()) {
            String family = k.replaceAll("_(f32|f16|bf16)$", "");
            if (!docSection.contains("| " + family + " |")) {
                missing.add(family);
            }
        }
        assertTrue(missing.isEmpty(), "kernels missing from docs/perf.md's kernel-resources table: " + missing);
    }

    @Test
    void noKernelSpills() {
        Matcher m = Pattern.compile("(\\d+) bytes spill stores, (\\d+) bytes spill loads").matcher(report);
        int kernels = 0;
        while (m.find()) {
            kernels++;
            assertEquals("0", m.group(1), "spill stores in the ptxas report");
            assertEquals("0", m.group(2), "spill loads in the ptxas report");
        }
        assertTrue(kernels > 20, "the report lists spills for only " + kernels + " kernels");
    }
}
