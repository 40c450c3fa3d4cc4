package io.github.groupnorm4j.emu;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Parses PTX as nvcc emits it and decodes each {@code .entry} into {@link KernelCode}. Anything the emulator cannot
 * execute exactly is rejected here, naming the instruction and line, so nothing is silently mis-executed.
 */
final class PtxParser {
    /** A module-level variable in global or constant memory, allocated when the module is loaded. */
    record GlobalVar(String name, int size, int align, byte[] init) {
    }

    /** One statement: text without its terminator, and the line it starts on. */
    private record Stmt(String text, int line, char kind) {
        // kind: ';' instruction/directive, '{' scope open, '}' scope close, ':' label, 'L' line directive
    }

    private final String module;
    private final List<Stmt> stmts = new ArrayList<>();
    private final Map<String, KernelCode> kernels = new LinkedHashMap<>();
    /** Every function with a body, entries and .func alike, before linking. */
    private final Map<String, Unit> units = new LinkedHashMap<>();
    private final List<String> entryNames = new ArrayList<>();

    /** A decoded function before linking: its own slots, frame layout and call sites. */
    record Unit(KernelCode code, boolean entry, int frameBytes, int[] formalOffsets, int[] formalSizes,
                int retOffset, int retSize, List<Integer> localSlots, int line) {
    }
    private final Map<String, GlobalVar> globals = new LinkedHashMap<>();
    /** Module-scope shared variables: name to byte offset, laid out first in every kernel's shared window. */
    private final Map<String, Integer> moduleShared = new LinkedHashMap<>();
    private int moduleSharedBytes;
    private boolean moduleHasExternShared;
    private String moduleExternShared;

    private PtxParser(String module) {
        this.module = module;
    }

    static PtxModule parse(String moduleName, String text) {
        PtxParser p = new PtxParser(moduleName);
        try {
            p.split(text);
            p.parseTopLevel();
            for (String entry : p.entryNames) {
                p.kernels.put(entry, p.link(p.units.get(entry)));
            }
        } catch (PtxException e) {
            throw e;
        } catch (RuntimeException e) {
            // Malformed text the checks above did not foresee: still a PtxException naming the module, not a crash.
            throw new PtxException(moduleName, 0, "cannot parse this PTX (" + e + ")");
        }
        return new PtxModule(moduleName, p.kernels, p.globals);
    }

    private PtxException error(int line, String message) {
        return new PtxException(module, line, message);
    }

    // ------------------------------------------------------------------ statement splitting

    private void split(String src) {
        StringBuilder cur = new StringBuilder();
        int line = 1;
        int startLine = 1;
        int n = src.length();
        for (int i = 0; i < n; i++) {
            char ch = src.charAt(i);
            if (ch == '/' && i + 1 < n && src.charAt(i + 1) == '/') {
                while (i < n && src.charAt(i) != '\n') {
                    i++;
                }
                i--;
                continue;
            }
            if (ch == '/' && i + 1 < n && src.charAt(i + 1) == '*') {
                int end = src.indexOf("*/", i + 2);
                if (end < 0) {
                    throw error(line, "unterminated /* comment");
                }
                for (int k = i; k < end; k++) {
                    if (src.charAt(k) == '\n') {
                        line++;
                    }
                }
                i = end + 1;
                cur.append(' ');
                continue;
            }
            if (ch == '"') {
                int end = src.indexOf('"', i + 1);
                if (end < 0) {
                    throw error(line, "unterminated string");
                }
                if (cur.toString().isBlank()) {
                    startLine = line;
                }
                cur.append(src, i, end + 1);
                i = end;
                continue;
            }
            if (ch == '\n') {
                // These directives end at the end of their line, without ';'.
                String t = cur.toString().trim();
                if (t.startsWith(".loc") || t.startsWith(".file")) {
                    stmts.add(new Stmt(t, startLine, 'L'));
                    cur.setLength(0);
                } else if (t.startsWith(".version") || t.startsWith(".target") || t.startsWith(".address_size")) {
                    stmts.add(new Stmt(t, startLine, ';'));
                    cur.setLength(0);
                }
                line++;
                if (cur.length() > 0) {
                    cur.append(' ');
                }
                continue;
            }
            boolean blank = cur.toString().isBlank();
            if (blank && (ch == '{' || ch == '}')) {
                stmts.add(new Stmt(String.valueOf(ch), line, ch));
                cur.setLength(0);
                continue;
            }
            if (ch == '{' && !blank && isHeaderBeforeBrace(cur)) {
                String header = cur.toString().trim();
                if (header.startsWith(".section")) {
                    // Debug sections: skip their balanced contents.
                    int depth = 1;
                    int k = i + 1;
                    for (; k < n && depth > 0; k++) {
                        char c2 = src.charAt(k);
                        if (c2 == '{') {
                            depth++;
                        } else if (c2 == '}') {
                            depth--;
                        } else if (c2 == '\n') {
                            line++;
                        }
                    }
                    i = k - 1;
                    cur.setLength(0);
                    continue;
                }
                stmts.add(new Stmt(header, startLine, ';'));
                stmts.add(new Stmt("{", line, '{'));
                cur.setLength(0);
                continue;
            }
            if (ch == ';') {
                stmts.add(new Stmt(cur.toString().trim(), startLine, ';'));
                cur.setLength(0);
                continue;
            }
            if (ch == ':' && !blank && isLabel(cur) && (i + 1 >= n || src.charAt(i + 1) != ':')
                    && (i == 0 || src.charAt(i - 1) != ':')) {
                stmts.add(new Stmt(cur.toString().trim(), startLine, ':'));
                cur.setLength(0);
                continue;
            }
            if (blank && !Character.isWhitespace(ch)) {
                startLine = line;
                cur.setLength(0);
            }
            cur.append(ch);
        }
        String rest = cur.toString().trim();
        if (!rest.isEmpty()) {
            if (rest.startsWith(".loc") || rest.startsWith(".file")) {
                stmts.add(new Stmt(rest, startLine, 'L'));
            } else {
                throw error(startLine, "statement not terminated by ';': " + rest);
            }
        }
    }

    /** A '{' after an entry/func header or a .section opens a block; inside instructions it starts a vector. */
    private static boolean isHeaderBeforeBrace(StringBuilder cur) {
        String t = cur.toString().trim();
        return t.startsWith(".section") || t.contains(".entry") || t.contains(".func") || t.endsWith(")")
                || t.startsWith(".maxntid") || t.startsWith(".reqntid") || t.startsWith(".minnctapersm")
                || t.matches("(?s).*\\.(maxntid|reqntid|minnctapersm|maxnreg|maxclusterrank|reqnctapercluster|"
                + "explicitcluster|noreturn|pragma)\\b.*");
    }

    private static boolean isLabel(StringBuilder cur) {
        String t = cur.toString().trim();
        if (t.isEmpty()) {
            return false;
        }
        for (int k = 0; k < t.length(); k++) {
            char c = t.charAt(k);
            if (!(Character.isLetterOrDigit(c) || c == '_' || c == '$' || c == '.')) {
                return false;
            }
        }
        return !t.startsWith(".");
    }

    // ------------------------------------------------------------------ top level

    private void parseTopLevel() {
        int i = 0;
        while (i < stmts.size()) {
            Stmt s = stmts.get(i);
            if (s.kind == 'L' || s.text.isEmpty()) {
                i++;
                continue;
            }
            if (s.kind == '{' || s.kind == '}' || s.kind == ':') {
                throw error(s.line, "unexpected '" + s.text + "' at module scope");
            }
            String t = s.text;
            String[] words = t.split("\\s+");
            String first = words[0];
            if (first.equals(".version") || first.equals(".target") || first.equals(".address_size")) {
                if (first.equals(".address_size") && !t.endsWith("64")) {
                    throw error(s.line, "only .address_size 64 is supported");
                }
                i++;
                continue;
            }
            if (t.contains(".entry") || t.contains(".func")) {
                i = parseFunction(i);
                continue;
            }
            if (t.contains(".shared")) {
                declareModuleShared(s);
                i++;
                continue;
            }
            if (t.contains(".global") || t.contains(".const")) {
                declareGlobal(s);
                i++;
                continue;
            }
            if (first.equals(".pragma") || first.equals(".common") || t.startsWith(".extern .func")) {
                i++;
                continue;
            }
            throw error(s.line, "unsupported module-level statement: " + t);
        }
    }

    private void declareModuleShared(Stmt s) {
        VarDecl v = VarDecl.parse(s.text, s.line, this);
        if (v.external) {
            moduleHasExternShared = true;
            moduleExternShared = v.name;
            return;
        }
        int off = align(moduleSharedBytes, v.align);
        moduleShared.put(v.name, off);
        moduleSharedBytes = off + v.size;
    }

    private void declareGlobal(Stmt s) {
        VarDecl v = VarDecl.parse(s.text, s.line, this);
        if (v.external) {
            throw error(s.line, "extern global variable '" + v.name + "' cannot be resolved by the emulator");
        }
        globals.put(v.name, new GlobalVar(v.name, v.size, v.align, v.init));
    }

    static int align(int v, int a) {
        return (v + a - 1) / a * a;
    }

    /** A variable declaration: {@code [.extern] .space [.align N] .type name[size] [= {init}]}. */
    static final class VarDecl {
        String name;
        int size;
        int align = 1;
        boolean external;
        byte[] init;

        static VarDecl parse(String text, int line, PtxParser p) {
            VarDecl v = new VarDecl();
            String t = text;
            String initText = null;
            int eq = t.indexOf('=');
            if (eq >= 0) {
                initText = t.substring(eq + 1).trim();
                t = t.substring(0, eq).trim();
            }
            String[] w = t.split("\\s+");
            int elem = 0;
            String decl = null;
            for (int k = 0; k < w.length; k++) {
                String x = w[k];
                if (x.equals(".extern")) {
                    v.external = true;
                } else if (x.equals(".align")) {
                    v.align = Integer.parseInt(w[++k]);
                } else if (x.startsWith(".")) {
                    int bits = typeBits(x.substring(1));
                    if (bits > 0) {
                        elem = Math.max(1, bits / 8);
                    }
                } else {
                    decl = decl == null ? x : decl + x;
                }
            }
            if (decl == null || elem == 0) {
                throw p.error(line, "cannot parse declaration: " + text);
            }
            int br = decl.indexOf('[');
            int count = 1;
            if (br >= 0) {
                String dim = decl.substring(br + 1, decl.indexOf(']')).trim();
                v.name = decl.substring(0, br);
                if (dim.isEmpty()) {
                    count = 0;
                    v.external = true;
                } else {
                    count = Integer.parseInt(dim);
                }
            } else {
                v.name = decl;
            }
            v.align = Math.max(v.align, elem);
            v.size = count * elem;
            if (initText != null) {
                String body = initText.replace("{", "").replace("}", "").trim();
                v.init = new byte[v.size];
                if (!body.isEmpty()) {
                    String[] vals = body.split(",");
                    for (int k = 0; k < vals.length && k * elem < v.size; k++) {
                        long bits = parseInteger(vals[k].trim(), p, line);
                        for (int b = 0; b < elem; b++) {
                            v.init[k * elem + b] = (byte) (bits >>> (8 * b));
                        }
                    }
                }
            }
            return v;
        }
    }

    // ------------------------------------------------------------------ functions

    private int parseFunction(int i) {
        Stmt header = stmts.get(i);
        String h = header.text;
        if (i + 1 >= stmts.size() || stmts.get(i + 1).kind != '{') {
            return i + 1; // a prototype without body
        }
        boolean entry = h.contains(".entry");
        String rest = h.substring(h.indexOf(entry ? ".entry" : ".func") + (entry ? 6 : 5)).trim();
        String retDecl = null;
        if (rest.startsWith("(")) {
            int close = rest.indexOf(')');
            if (close < 0) {
                throw error(header.line, "unclosed '(' in the return declaration of: " + h);
            }
            retDecl = rest.substring(1, close).trim();
            rest = rest.substring(close + 1).trim();
        }
        int open = rest.indexOf('(');
        String name = (open >= 0 ? rest.substring(0, open) : rest.split("\\s+")[0]).trim().split("\\s+")[0];
        FunctionBuilder fb = new FunctionBuilder(name, entry);
        fb.pushScope();
        if (open >= 0) {
            int close = rest.lastIndexOf(')');
            if (close < open) {
                throw error(header.line, "unclosed '(' in the parameter list of: " + h);
            }
            String plist = rest.substring(open + 1, close).trim();
            if (!plist.isEmpty()) {
                for (String p : plist.split(",")) {
                    fb.addParam(p.trim(), header.line);
                }
            }
        }
        java.util.regex.Matcher cluster = java.util.regex.Pattern
                .compile("\\.reqnctapercluster\\s+(\\d+)\\s*(?:,\\s*(\\d+))?\\s*(?:,\\s*(\\d+))?").matcher(h);
        if (cluster.find()) {
            fb.clusterDims = new Dim3(Integer.parseInt(cluster.group(1)),
                    cluster.group(2) == null ? 1 : Integer.parseInt(cluster.group(2)),
                    cluster.group(3) == null ? 1 : Integer.parseInt(cluster.group(3)));
            if (fb.clusterDims.volume() < 1 || fb.clusterDims.volume() > 16) {
                throw error(header.line, "cluster of " + fb.clusterDims + " CTAs: expected 1 to 16");
            }
        }
        fb.explicitCluster = h.contains(".explicitcluster") || cluster.find(0);
        java.util.regex.Matcher bound = java.util.regex.Pattern
                .compile("\\.(?:maxntid|reqntid)\\s+(\\d+)\\s*(?:,\\s*(\\d+))?\\s*(?:,\\s*(\\d+))?").matcher(h);
        if (bound.find()) {
            long threads = Long.parseLong(bound.group(1))
                    * (bound.group(2) == null ? 1 : Long.parseLong(bound.group(2)))
                    * (bound.group(3) == null ? 1 : Long.parseLong(bound.group(3)));
            if (threads < 1 || threads > 1024) {
                throw error(header.line, "thread bound of " + threads + ": expected 1 to 1024");
            }
            fb.maxThreads = (int) threads;
        }
        if (retDecl != null && !retDecl.isEmpty()) {
            if (retDecl.contains(",")) {
                throw error(header.line, "functions with several return values are not supported");
            }
            fb.declareReturn(retDecl, header.line);
        }
        int k = i + 2;
        int depth = 1;
        while (k < stmts.size() && depth > 0) {
            Stmt s = stmts.get(k);
            switch (s.kind) {
                case '{':
                    depth++;
                    fb.pushScope();
                    break;
                case '}':
                    depth--;
                    fb.popScope();
                    break;
                case ':':
                    fb.label(s.text, s.line);
                    break;
                case 'L':
                    break;
                default:
                    if (!s.text.isEmpty()) {
                        fb.statement(s.text, s.line);
                    }
            }
            k++;
        }
        if (depth != 0) {
            throw error(header.line, "unterminated body of " + name);
        }
        units.put(name, fb.build(header.line));
        if (entry) {
            entryNames.add(name);
        }
        return k;
    }

    /**
     * Links an entry with every function it calls (transitively) into one kernel: each function keeps its own
     * register slots and code, placed after the entry's; call sites learn where their callee lives.
     */
    private KernelCode link(Unit entry) {
        List<Unit> order = new ArrayList<>();
        Map<String, Integer> index = new HashMap<>();
        order.add(entry);
        index.put(entry.code().name, 0);
        for (int u = 0; u < order.size(); u++) {
            for (Insn in : order.get(u).code().code) {
                if (in.op == Op.CALL && !index.containsKey(in.call.callee)) {
                    Unit callee = units.get(in.call.callee);
                    if (callee == null || callee.entry()) {
                        throw error(in.line, "call of '" + in.call.callee + "', which has no body in this module");
                    }
                    index.put(in.call.callee, order.size());
                    order.add(callee);
                }
            }
        }
        rejectRecursionWithLocals(order);
        int[] slotBase = new int[order.size()];
        int[] pcBase = new int[order.size()];
        int[] localBase = new int[order.size()];
        int slots = 0;
        int pcs = 0;
        int locals = 0;
        for (int u = 0; u < order.size(); u++) {
            KernelCode c = order.get(u).code();
            slotBase[u] = slots;
            pcBase[u] = pcs;
            localBase[u] = locals;
            slots += c.slots;
            pcs += c.code.length;
            locals = align(locals + c.localBytes, 16);
        }
        long[] template = new long[slots];
        Insn[] code = new Insn[pcs];
        List<Integer> specialSlots = new ArrayList<>();
        List<Integer> specialKinds = new ArrayList<>();
        List<KernelCode.GlobalFixup> fixups = new ArrayList<>();
        for (int u = 0; u < order.size(); u++) {
            Unit unit = order.get(u);
            KernelCode c = unit.code();
            int sb = slotBase[u];
            System.arraycopy(c.slotTemplate, 0, template, sb, c.slots);
            for (int ls : unit.localSlots()) {
                template[sb + ls] += localBase[u];
            }
            for (int s2 = 0; s2 < c.specialSlots.length; s2++) {
                specialSlots.add(sb + c.specialSlots[s2]);
                specialKinds.add(c.specialKinds[s2]);
            }
            for (KernelCode.GlobalFixup f : c.globalFixups) {
                fixups.add(new KernelCode.GlobalFixup(sb + f.slot(), f.symbol(), f.offset()));
            }
            for (int pcI = 0; pcI < c.code.length; pcI++) {
                Insn in = c.code[pcI].copy();
                in.guard = in.guard >= 0 ? in.guard + sb : -1;
                in.d = in.d >= 0 ? in.d + sb : -1;
                in.d2 = in.d2 >= 0 ? in.d2 + sb : -1;
                in.a = in.a >= 0 ? in.a + sb : -1;
                in.b = in.b >= 0 ? in.b + sb : -1;
                in.c = in.c >= 0 ? in.c + sb : -1;
                in.e = in.e >= 0 ? in.e + sb : -1;
                if (in.vec != null) {
                    for (int v = 0; v < in.vec.length; v++) {
                        in.vec[v] += sb;
                    }
                }
                if (in.op == Op.BRA) {
                    in.imm += pcBase[u];
                } else if (in.op == Op.CALL) {
                    int cu = index.get(in.call.callee);
                    Unit callee = order.get(cu);
                    Insn.CallSite cs = in.call;
                    if (cs.argSizes.length != callee.formalOffsets().length) {
                        throw error(in.line, "call passes " + cs.argSizes.length + " arguments to " + cs.callee
                                + ", which takes " + callee.formalOffsets().length);
                    }
                    if (cs.retCallerOffset >= 0 && callee.retOffset() < 0) {
                        throw error(in.line, cs.callee + " returns nothing but the call expects a value");
                    }
                    cs.argCalleeOffsets = callee.formalOffsets();
                    cs.argSizes = new int[cs.argSizes.length];
                    for (int ai = 0; ai < cs.argSizes.length; ai++) {
                        cs.argSizes[ai] = callee.formalSizes()[ai];
                    }
                    cs.retCalleeOffset = callee.retOffset();
                    cs.retSize = callee.retSize();
                    cs.callerFrameBytes = align(unit.frameBytes(), 16);
                    cs.calleeFrameBytes = align(callee.frameBytes(), 16);
                    cs.calleeSlotStart = slotBase[cu];
                    cs.calleeSlotEnd = slotBase[cu] + callee.code().slots;
                    in.imm = pcBase[cu];
                }
                code[pcBase[u] + pcI] = in;
            }
        }
        KernelCode e = entry.code();
        return new KernelCode(module, e.name, e.params, e.paramBytes, slots, template,
                specialSlots.stream().mapToInt(Integer::intValue).toArray(),
                specialKinds.stream().mapToInt(Integer::intValue).toArray(), code, e.staticSharedBytes,
                e.dynamicSharedOffset, locals, fixups, align(entry.frameBytes(), 16), e.clusterDims, e.explicitCluster,
                e.maxThreads);
    }

    /**
     * Each function's .local memory is one region per thread, not one per activation, so a recursive function that
     * uses .local would share it between activations: reject that at load instead of mis-executing it.
     */
    private void rejectRecursionWithLocals(List<Unit> linked) {
        for (Unit u : linked) {
            if (u.entry() || u.code().localBytes == 0) {
                continue;
            }
            // Can u reach itself through calls?
            java.util.ArrayDeque<String> work = new java.util.ArrayDeque<>();
            java.util.Set<String> seen = new java.util.HashSet<>();
            work.push(u.code().name);
            while (!work.isEmpty()) {
                Unit f = units.get(work.pop());
                for (Insn in : f.code().code) {
                    if (in.op != Op.CALL) {
                        continue;
                    }
                    if (in.call.callee.equals(u.code().name)) {
                        throw error(u.line(), "recursive function " + u.code().name + " uses .local memory, which the"
                                + " emulator keeps once per thread rather than once per call: not supported");
                    }
                    if (seen.add(in.call.callee) && units.containsKey(in.call.callee)) {
                        work.push(in.call.callee);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ literals and types

    /** Bits of a type name like {@code f32}, {@code u64}, {@code pred}; 0 if not a type. */
    static int typeBits(String t) {
        switch (t) {
            case "b8": case "u8": case "s8": return 8;
            case "b16": case "u16": case "s16": case "f16": case "bf16": return 16;
            case "b32": case "u32": case "s32": case "f32": case "f16x2": case "bf16x2": return 32;
            case "b64": case "u64": case "s64": case "f64": return 64;
            case "b128": return 128;
            case "pred": return 1;
            default: return 0;
        }
    }

    /** f16, bf16 and their packed pairs: the 16-bit floats, of which the emulator only converts f16/bf16 <-> f32. */
    static boolean isHalfFloat(String t) {
        return t.equals("f16") || t.equals("bf16") || t.equals("f16x2") || t.equals("bf16x2");
    }

    static int typeKind(String t) {
        if (t.equals("pred")) {
            return Op.T_PRED;
        }
        switch (t.charAt(0)) {
            case 'u': return Op.T_U;
            case 's': return Op.T_S;
            case 'f': return Op.T_F;
            case 'b': return t.startsWith("bf") ? Op.T_F : Op.T_B;
            default: return 0;
        }
    }

    static long parseInteger(String s, PtxParser p, int line) {
        String t = s.trim();
        if (t.endsWith("U") || t.endsWith("u")) {
            t = t.substring(0, t.length() - 1);
        }
        boolean neg = t.startsWith("-");
        if (neg) {
            t = t.substring(1);
        }
        long v;
        try {
            if (t.startsWith("0x") || t.startsWith("0X")) {
                v = Long.parseUnsignedLong(t.substring(2), 16);
            } else if (t.startsWith("0b") || t.startsWith("0B")) {
                v = Long.parseUnsignedLong(t.substring(2), 2);
            } else if (t.length() > 1 && t.startsWith("0") && t.chars().allMatch(Character::isDigit)) {
                v = Long.parseUnsignedLong(t.substring(1), 8);
            } else {
                v = Long.parseUnsignedLong(t);
            }
        } catch (NumberFormatException e) {
            throw p.error(line, "bad integer literal '" + s + "'");
        }
        return neg ? -v : v;
    }

    /** Parses an immediate for an operand of {@code kind}/{@code bits}; null if {@code s} is not a literal. */
    static Long parseLiteral(String s, int kind, int bits, PtxParser p, int line) {
        String t = s.trim();
        if (t.isEmpty()) {
            return null;
        }
        char c0 = t.charAt(0);
        if (!(Character.isDigit(c0) || c0 == '-' || c0 == '+')) {
            return null;
        }
        String u = t.startsWith("-") || t.startsWith("+") ? t.substring(1) : t;
        boolean neg = t.startsWith("-");
        if (u.length() == 10 && (u.startsWith("0f") || u.startsWith("0F"))) {
            int bitsF = (int) Long.parseLong(u.substring(2), 16);
            if (neg) {
                bitsF ^= 0x80000000;
            }
            return bits == 64 && kind == Op.T_F ? Double.doubleToRawLongBits(Float.intBitsToFloat(bitsF))
                    : (long) bitsF & 0xffffffffL;
        }
        if (u.length() == 18 && (u.startsWith("0d") || u.startsWith("0D"))) {
            long bitsD = Long.parseUnsignedLong(u.substring(2), 16);
            if (neg) {
                bitsD ^= Long.MIN_VALUE;
            }
            return bits == 32 && kind == Op.T_F ? (long) Float.floatToRawIntBits((float) Double.longBitsToDouble(bitsD))
                    & 0xffffffffL : bitsD;
        }
        boolean isFloatText = !u.startsWith("0x") && !u.startsWith("0X") && (u.contains(".") || u.contains("e")
                || u.contains("E"));
        if (kind == Op.T_F || isFloatText) {
            double d;
            try {
                d = Double.parseDouble(t);
            } catch (NumberFormatException e) {
                throw p.error(line, "bad literal '" + s + "'");
            }
            if (kind == Op.T_F) {
                return bits == 64 ? Double.doubleToRawLongBits(d) : (long) Float.floatToRawIntBits((float) d)
                        & 0xffffffffL;
            }
            throw p.error(line, "floating-point literal '" + s + "' in an integer operand");
        }
        return parseInteger(t, p, line);
    }

    // ------------------------------------------------------------------ function builder / decoder

    /** Builds one kernel: register scopes, slots, constants, and the decoded instruction list. */
    private final class FunctionBuilder {
        private final String name;
        private final Deque<Map<String, Integer>> scopes = new ArrayDeque<>();
        private final Map<String, Integer> registerKinds = new HashMap<>();
        private final List<KernelCode.Param> params = new ArrayList<>();
        private final Map<String, Integer> paramOffsets = new HashMap<>();
        private int paramBytes;
        private final Map<String, Integer> shared = new LinkedHashMap<>(moduleShared);
        private int sharedBytes = moduleSharedBytes;
        private boolean hasExternShared = moduleHasExternShared;
        private final List<String> externShared = new ArrayList<>();
        private final Map<String, Integer> locals = new HashMap<>();
        private int localBytes;
        private int registerSlots;
        private final Map<Long, Integer> constSlotsByValue = new LinkedHashMap<>();
        private final List<Long> constValues = new ArrayList<>();
        /** Constant slots whose value is a symbol resolved later (shared offsets after layout, globals at load). */
        private final List<Object[]> symbolSlots = new ArrayList<>();
        private final Map<Integer, Integer> specialSlots = new LinkedHashMap<>();
        private final List<Insn> code = new ArrayList<>();
        private final Map<String, Integer> labels = new HashMap<>();
        private final List<Object[]> branchFixups = new ArrayList<>();
        private int sinkSlot = -1;
        private final boolean entry;
        private Dim3 clusterDims = new Dim3(1, 1, 1);
        private boolean explicitCluster;
        private int maxThreads;
        /** Frame-resident .param variables (a .func's formals and return value, call-site params), scoped. */
        private final Deque<Map<String, int[]>> frameScopes = new ArrayDeque<>();
        private int frameBytes;
        private final List<int[]> formals = new ArrayList<>();
        private int retOffset = -1;
        private int retSize;

        FunctionBuilder(String name, boolean entry) {
            this.name = name;
            this.entry = entry;
            if (moduleExternShared != null) {
                externShared.add(moduleExternShared);
            }
        }

        void pushScope() {
            scopes.push(new HashMap<>());
            frameScopes.push(new HashMap<>());
        }

        void popScope() {
            scopes.pop();
            frameScopes.pop();
        }

        /** Declares a frame .param variable: returns {offset, size}. */
        int[] declareFrameParam(String decl, int line) {
            VarDecl v = VarDecl.parse(decl.replace(".param", "").trim(), line, PtxParser.this);
            int off = align(frameBytes, Math.max(1, v.align));
            frameBytes = off + Math.max(1, v.size);
            int[] slot = {off, Math.max(1, v.size)};
            frameScopes.peek().put(v.name, slot);
            return slot;
        }

        void declareReturn(String decl, int line) {
            int[] r = declareFrameParam(decl, line);
            retOffset = r[0];
            retSize = r[1];
        }

        int[] frameParam(String name) {
            for (Map<String, int[]> scope : frameScopes) {
                int[] v = scope.get(name);
                if (v != null) {
                    return v;
                }
            }
            return null;
        }

        void addParam(String decl, int line) {
            if (!entry) {
                formals.add(declareFrameParam(decl, line));
                return;
            }
            String[] w = decl.split("\\s+");
            int size = 0;
            int kind = 0;
            int alignment = 1;
            String pname = null;
            int count = 1;
            for (int k = 0; k < w.length; k++) {
                String x = w[k];
                if (x.equals(".param")) {
                    continue;
                }
                if (x.equals(".align")) {
                    alignment = Integer.parseInt(w[++k]);
                } else if (x.equals(".ptr") || x.startsWith(".global") || x.startsWith(".shared")
                        || x.startsWith(".const") || x.startsWith(".local")) {
                    continue;
                } else if (x.startsWith(".")) {
                    int bits = typeBits(x.substring(1));
                    if (bits == 0) {
                        throw error(line, "unsupported parameter type " + x + " in " + decl);
                    }
                    size = Math.max(1, bits / 8);
                    kind = typeKind(x.substring(1));
                } else {
                    pname = x;
                    int br = x.indexOf('[');
                    if (br >= 0) {
                        count = Integer.parseInt(x.substring(br + 1, x.indexOf(']')));
                        pname = x.substring(0, br);
                    }
                }
            }
            if (pname == null || size == 0) {
                throw error(line, "cannot parse parameter: " + decl);
            }
            int off = align(paramBytes, Math.max(alignment, size));
            params.add(new KernelCode.Param(pname, off, size * count, count == 1 ? kind : Op.T_B));
            paramOffsets.put(pname, off);
            paramBytes = off + size * count;
        }

        void label(String text, int line) {
            if (labels.put(text, code.size()) != null) {
                throw error(line, "duplicate label " + text);
            }
        }

        int register(String name, int line) {
            for (Map<String, Integer> scope : scopes) {
                Integer slot = scope.get(name);
                if (slot != null) {
                    return slot;
                }
            }
            throw error(line, "undeclared register " + name);
        }

        boolean isRegister(String name) {
            for (Map<String, Integer> scope : scopes) {
                if (scope.containsKey(name)) {
                    return true;
                }
            }
            return false;
        }

        int constSlot(long value) {
            Integer s = constSlotsByValue.get(value);
            if (s == null) {
                s = -(constValues.size() + 2); // provisional: below -1, fixed after registers are counted
                constSlotsByValue.put(value, s);
                constValues.add(value);
            }
            return s;
        }

        int symbolSlot(String space, String symbol, long offset) {
            int idx = constValues.size();
            constValues.add(0L);
            symbolSlots.add(new Object[] {idx, space, symbol, offset});
            return -(idx + 2);
        }

        int special(int kind) {
            return specialSlots.computeIfAbsent(kind, k -> Integer.MIN_VALUE + k);
        }

        int sink() {
            if (sinkSlot < 0) {
                sinkSlot = registerSlots++;
            }
            return sinkSlot;
        }

        void statement(String t, int line) {
            if (t.startsWith(".")) {
                directive(t, line);
                return;
            }
            decode(t, line);
        }

        void directive(String t, int line) {
            String first = t.split("\\s+")[0];
            switch (first) {
                case ".reg":
                    declareRegisters(t, line);
                    return;
                case ".shared": {
                    VarDecl v = VarDecl.parse(t, line, PtxParser.this);
                    if (v.external) {
                        hasExternShared = true;
                        externShared.add(v.name);
                    } else {
                        int off = align(sharedBytes, v.align);
                        shared.put(v.name, off);
                        sharedBytes = off + v.size;
                    }
                    return;
                }
                case ".local": {
                    VarDecl v = VarDecl.parse(t, line, PtxParser.this);
                    int off = align(localBytes, v.align);
                    locals.put(v.name, off);
                    localBytes = off + v.size;
                    return;
                }
                case ".pragma":
                case ".loc":
                case ".file":
                case ".maxntid":
                case ".reqntid":
                case ".minnctapersm":
                case ".maxnreg":
                    return;
                case ".extern":
                    if (t.contains(".shared")) {
                        VarDecl v = VarDecl.parse(t, line, PtxParser.this);
                        hasExternShared = true;
                        externShared.add(v.name);
                        return;
                    }
                    break;
                case ".param":
                    declareFrameParam(t, line);
                    return;
                default:
                    break;
            }
            throw error(line, "unsupported directive: " + t);
        }

        void declareRegisters(String t, int line) {
            // .reg .type name, name<n>, ...
            String rest = t.substring(4).trim();
            int sp = rest.indexOf(' ');
            String typeTok = sp < 0 ? rest : rest.substring(0, sp);
            String[] parts = typeTok.split("\\.");
            String type = parts[parts.length - 1];
            if (typeTok.startsWith(".v")) {
                throw error(line, "unsupported vector register declaration: " + t);
            }
            int kind = typeKind(type);
            if (typeBits(type) == 0) {
                throw error(line, "unsupported register type in: " + t);
            }
            String names = sp < 0 ? "" : rest.substring(sp).trim();
            for (String nm : names.split(",")) {
                String n = nm.trim();
                if (n.isEmpty()) {
                    continue;
                }
                int lt = n.indexOf('<');
                if (lt >= 0) {
                    String base = n.substring(0, lt).trim();
                    int count = Integer.parseInt(n.substring(lt + 1, n.indexOf('>')).trim());
                    for (int k = 0; k < count; k++) {
                        declare(base + k, kind);
                    }
                } else {
                    declare(n, kind);
                }
            }
        }

        private void declare(String reg, int kind) {
            scopes.peek().put(reg, registerSlots++);
            registerKinds.put(reg, kind);
        }

        // ---------------------------------------------------------------- operands

        /** Source operand: register, special register, literal or symbol address. */
        int src(String s, int kind, int bits, int line) {
            String t = s.trim();
            if (t.isEmpty()) {
                throw error(line, "missing operand");
            }
            if (t.startsWith("%") || isRegister(t)) {
                if (isRegister(t)) {
                    return register(t, line);
                }
                int sk = SpecialReg.byName(t);
                if (sk >= 0) {
                    return special(sk);
                }
                throw error(line, "undeclared or unsupported register " + t);
            }
            Long lit = parseLiteral(t, kind, bits, PtxParser.this, line);
            if (lit != null) {
                return constSlot(lit);
            }
            return symbolAddress(t, 0, line);
        }

        /** A destination {@code d} or a pair {@code d|p} (setp, shfl, match): sets in.d and in.d2. */
        void destPair(Insn in, String s, int line) {
            int bar = s.indexOf('|');
            in.d = dst(bar >= 0 ? s.substring(0, bar) : s, line);
            if (bar >= 0) {
                in.d2 = dst(s.substring(bar + 1), line);
            }
        }

        int dst(String s, int line) {
            String t = s.trim();
            if (t.equals("_")) {
                return sink();
            }
            if (!isRegister(t)) {
                throw error(line, "destination must be a register, got '" + t + "'");
            }
            return register(t, line);
        }

        /** The address value of a symbol: a parameter, shared or local variable, or module global. */
        int symbolAddress(String sym, long offset, int line) {
            if (sym.equals("WARP_SZ")) {
                return constSlot(32 + offset);
            }
            int[] frame = frameParam(sym);
            if (frame != null) {
                return constSlot(Launch.FRAME_TAG + frame[0] + offset);
            }
            if (paramOffsets.containsKey(sym)) {
                return constSlot(paramOffsets.get(sym) + offset);
            }
            if (shared.containsKey(sym) || externShared.contains(sym)) {
                return symbolSlot("shared", sym, offset);
            }
            if (locals.containsKey(sym)) {
                return symbolSlot("local", sym, offset);
            }
            if (globals.containsKey(sym)) {
                return symbolSlot("global", sym, offset);
            }
            if (kernels.containsKey(sym) || sym.equals(name)) {
                throw error(line, "function addresses are not supported: " + sym);
            }
            throw error(line, "unknown symbol '" + sym + "'");
        }

        /** An address operand {@code [base+imm]}: returns {slot, offset}. */
        long[] address(String s, int line) {
            String t = s.trim();
            if (!t.startsWith("[") || !t.endsWith("]")) {
                throw error(line, "expected an address [..], got '" + t + "'");
            }
            String in = t.substring(1, t.length() - 1).replace(" ", "");
            long off = 0;
            String base = in;
            int plus = in.lastIndexOf('+');
            if (plus > 0) {
                base = in.substring(0, plus);
                off = parseInteger(in.substring(plus + 1), PtxParser.this, line);
            } else {
                int minus = in.lastIndexOf('-');
                if (minus > 0 && !in.startsWith("-")) {
                    base = in.substring(0, minus);
                    off = -parseInteger(in.substring(minus + 1), PtxParser.this, line);
                }
            }
            if (base.startsWith("%") || isRegister(base)) {
                return new long[] {register(base, line), off};
            }
            Long lit = parseLiteral(base, Op.T_U, 64, PtxParser.this, line);
            if (lit != null) {
                return new long[] {constSlot(lit + off), 0};
            }
            return new long[] {symbolAddress(base, 0, line), off};
        }

        int[] vector(String s, boolean dest, int kind, int bits, int line) {
            String t = s.trim();
            if (!t.startsWith("{") || !t.endsWith("}")) {
                throw error(line, "expected a vector {..}, got '" + t + "'");
            }
            String[] parts = t.substring(1, t.length() - 1).split(",");
            int[] slots = new int[parts.length];
            for (int k = 0; k < parts.length; k++) {
                slots[k] = dest ? dst(parts[k], line) : src(parts[k], kind, bits, line);
            }
            return slots;
        }

        // ---------------------------------------------------------------- instructions

        void decode(String text, int line) {
            Insn in = new Insn();
            in.line = line;
            in.text = text.replaceAll("\\s+", " ");
            String t = text.trim();
            if (t.startsWith("@")) {
                int sp = t.indexOf(' ');
                String g = t.substring(1, sp);
                if (g.startsWith("!")) {
                    in.guardNegated = true;
                    g = g.substring(1);
                }
                in.guard = register(g, line);
                t = t.substring(sp + 1).trim();
            }
            int sp = firstSpace(t);
            String opcode = sp < 0 ? t : t.substring(0, sp);
            List<String> ops = sp < 0 ? List.of() : splitOperands(t.substring(sp + 1), line);
            String[] mods = opcode.split("\\.");
            String base = mods[0];
            try {
                decodeOp(in, base, mods, ops, line);
            } catch (PtxException e) {
                throw e;
            } catch (RuntimeException e) {
                throw error(line, "cannot decode '" + in.text + "': " + e.getMessage());
            }
            code.add(in);
        }

        private int firstSpace(String t) {
            for (int k = 0; k < t.length(); k++) {
                if (Character.isWhitespace(t.charAt(k))) {
                    return k;
                }
            }
            return -1;
        }

        private List<String> splitOperands(String s, int line) {
            List<String> out = new ArrayList<>();
            int depth = 0;
            StringBuilder cur = new StringBuilder();
            for (int k = 0; k < s.length(); k++) {
                char ch = s.charAt(k);
                if (ch == '{' || ch == '[' || ch == '(') {
                    depth++;
                } else if (ch == '}' || ch == ']' || ch == ')') {
                    depth--;
                }
                if (ch == ',' && depth == 0) {
                    out.add(cur.toString().trim());
                    cur.setLength(0);
                } else {
                    cur.append(ch);
                }
            }
            if (cur.length() > 0 || !out.isEmpty()) {
                out.add(cur.toString().trim());
            }
            if (depth != 0) {
                throw error(line, "unbalanced brackets in operands: " + s);
            }
            return out;
        }

        private PtxException unsupported(Insn in, String why) {
            return error(in.line, "unsupported instruction '" + in.text + "'" + (why.isEmpty() ? "" : ": " + why));
        }

        private void need(Insn in, List<String> ops, int n) {
            if (ops.size() != n) {
                throw error(in.line, "'" + in.text + "' needs " + n + " operands, has " + ops.size());
            }
        }

        /** The data type: the last modifier that names a type. */
        private String lastType(String[] mods, Insn in) {
            for (int k = mods.length - 1; k > 0; k--) {
                if (typeBits(mods[k]) > 0) {
                    return mods[k];
                }
            }
            throw unsupported(in, "no type");
        }

        private boolean has(String[] mods, String m) {
            for (int k = 1; k < mods.length; k++) {
                if (mods[k].equals(m)) {
                    return true;
                }
            }
            return false;
        }

        private void decodeOp(Insn in, String base, String[] mods, List<String> ops, int line) {
            switch (base) {
                case "mov":
                    decodeMov(in, mods, ops, line);
                    return;
                case "add": case "sub": case "mul": case "mad": case "fma": case "div": case "rem": case "min":
                case "max": case "abs": case "neg": case "and": case "or": case "xor": case "not": case "cnot":
                case "shl": case "shr": case "popc": case "clz": case "brev": case "bfe": case "bfi": case "prmt":
                case "rcp": case "sqrt": case "rsqrt": case "ex2": case "lg2": case "sin": case "cos": case "tanh":
                case "mul24": case "mad24": case "sad": case "copysign": case "shf": case "lop3": case "bfind":
                    decodeArith(in, base, mods, ops, line);
                    return;
                case "selp":
                    decodeSelp(in, mods, ops, line);
                    return;
                case "setp":
                    decodeSetp(in, mods, ops, line);
                    return;
                case "testp":
                    decodeTestp(in, mods, ops, line);
                    return;
                case "cvt":
                    decodeCvt(in, mods, ops, line);
                    return;
                case "cvta":
                    decodeCvta(in, mods, ops, line);
                    return;
                case "ld":
                case "ldu":
                case "st":
                    decodeLdSt(in, base.equals("st"), mods, ops, line);
                    return;
                case "atom":
                case "red":
                    decodeAtom(in, base.equals("red"), mods, ops, line);
                    return;
                case "bra":
                    need(in, ops, 1);
                    in.op = Op.BRA;
                    branchFixups.add(new Object[] {in, ops.get(0)});
                    return;
                case "ret":
                    in.op = entry ? Op.EXIT : Op.RET;
                    return;
                case "exit":
                    in.op = Op.EXIT;
                    return;
                case "call":
                    decodeCall(in, ops, line);
                    return;
                case "bar":
                case "barrier":
                    decodeBarrier(in, mods, ops, line);
                    return;
                case "shfl":
                    decodeShfl(in, mods, ops, line);
                    return;
                case "vote":
                    decodeVote(in, mods, ops, line);
                    return;
                case "mapa": {
                    need(in, ops, 3);
                    String type = lastType(mods, in);
                    int sp = space(mods, in);
                    if (sp != Op.SPACE_GENERIC && sp != Op.SPACE_DSMEM) {
                        throw unsupported(in, "mapa on " + mods[1]);
                    }
                    in.op = Op.MAPA;
                    in.flags = sp << 8;
                    in.width = typeBits(type);
                    in.d = dst(ops.get(0), line);
                    in.a = src(ops.get(1), Op.T_U, in.width, line);
                    in.b = src(ops.get(2), Op.T_U, 32, line);
                    return;
                }
                case "activemask":
                    need(in, ops, 1);
                    in.op = Op.ACTIVEMASK;
                    in.d = dst(ops.get(0), line);
                    return;
                case "match": {
                    if (!has(mods, "sync") || !(has(mods, "any") || has(mods, "all"))) {
                        throw unsupported(in, "only match.any.sync and match.all.sync");
                    }
                    need(in, ops, 3);
                    in.op = has(mods, "any") ? Op.MATCH_ANY : Op.MATCH_ALL;
                    in.width = typeBits(lastType(mods, in));
                    destPair(in, ops.get(0), line);
                    in.a = src(ops.get(1), Op.T_B, in.width, line);
                    in.b = src(ops.get(2), Op.T_B, 32, line);
                    return;
                }
                case "redux": {
                    if (!has(mods, "sync")) {
                        throw unsupported(in, "redux without .sync");
                    }
                    need(in, ops, 3);
                    String type = lastType(mods, in);
                    if (typeBits(type) != 32 || typeKind(type) == Op.T_F) {
                        throw unsupported(in, "redux.sync on ." + type);
                    }
                    in.op = Op.REDUX;
                    in.mode = has(mods, "add") ? Op.ATOM_ADD : has(mods, "min") ? Op.ATOM_MIN : has(mods, "max")
                            ? Op.ATOM_MAX : has(mods, "and") ? Op.ATOM_AND : has(mods, "or") ? Op.ATOM_OR
                            : has(mods, "xor") ? Op.ATOM_XOR : -1;
                    if (in.mode < 0) {
                        throw unsupported(in, "redux operation");
                    }
                    in.flags = typeKind(type) == Op.T_S ? Op.SIGNED : 0;
                    in.d = dst(ops.get(0), line);
                    in.a = src(ops.get(1), Op.T_B, 32, line);
                    in.b = src(ops.get(2), Op.T_B, 32, line);
                    return;
                }
                case "membar":
                case "fence":
                    // Proxy fences and mbarrier-init fences order nothing between CTAs' generic accesses.
                    in.op = has(mods, "proxy") || has(mods, "mbarrier_init") ? Op.NOP : Op.FENCE;
                    in.sem = Op.SEM_ACQUIRE | Op.SEM_RELEASE | scope(mods);
                    return;
                case "nanosleep":
                case "pmevent":
                case "prefetch":
                case "prefetchu":
                case "discard":
                    in.op = Op.NOP;
                    return;
                default:
                    throw unsupported(in, "'" + base + "' is not implemented by the emulator");
            }
        }

        private void decodeMov(Insn in, String[] mods, List<String> ops, int line) {
            need(in, ops, 2);
            String type = lastType(mods, in);
            int bits = typeBits(type);
            int kind = typeKind(type);
            in.width = bits;
            String d = ops.get(0);
            String a = ops.get(1);
            if (d.startsWith("{")) {
                in.op = Op.MOV_UNPACK;
                in.vec = vector(d, true, kind, bits, line);
                in.a = src(a, kind, bits, line);
                return;
            }
            if (a.startsWith("{")) {
                in.op = Op.MOV_PACK;
                in.d = dst(d, line);
                in.vec = vector(a, false, kind, bits, line);
                return;
            }
            in.op = Op.MOV;
            in.d = dst(d, line);
            in.a = src(a, kind, bits, line);
        }

        private void decodeArith(Insn in, String base, String[] mods, List<String> ops, int line) {
            String type = lastType(mods, in);
            int bits = typeBits(type);
            int kind = typeKind(type);
            in.width = bits;
            if (kind == Op.T_S) {
                in.flags |= Op.SIGNED;
            }
            if (has(mods, "ftz")) {
                in.flags |= Op.FTZ;
            }
            if (has(mods, "sat")) {
                in.flags |= Op.SAT;
            }
            if (has(mods, "cc") || base.endsWith("c")) {
                if (has(mods, "cc")) {
                    throw unsupported(in, "carry flags (.cc) are not implemented");
                }
            }
            if (isHalfFloat(type)) {
                // f16x2/bf16x2 are 32 bits wide: without this they would run as f32.
                throw unsupported(in, "half-precision arithmetic is not implemented");
            }
            boolean f32 = kind == Op.T_F && bits == 32;
            boolean f64 = kind == Op.T_F && bits == 64;
            boolean rn = !(has(mods, "rz") || has(mods, "rm") || has(mods, "rp"));
            if ((f32 || f64) && !rn) {
                int kindOp = base.equals("add") ? 0 : base.equals("sub") ? 1 : base.equals("mul") ? 2
                        : base.equals("fma") || base.equals("mad") ? 3 : -1;
                if (kindOp < 0) {
                    throw unsupported(in, "directed rounding of " + base);
                }
                in.op = Op.DIRECTED;
                in.mode = has(mods, "rz") ? Op.RND_RZ : has(mods, "rm") ? Op.RND_RM : Op.RND_RP;
                in.mode2 = kindOp;
                int n = kindOp == 3 ? 3 : 2;
                need(in, ops, n + 1);
                in.d = dst(ops.get(0), line);
                in.a = src(ops.get(1), kind, bits, line);
                in.b = src(ops.get(2), kind, bits, line);
                if (n == 3) {
                    in.c = src(ops.get(3), kind, bits, line);
                }
                return;
            }
            int nsrc;
            switch (base) {
                case "add":
                    in.op = f32 ? Op.ADD_F32 : f64 ? Op.ADD_F64 : Op.ADD;
                    nsrc = 2;
                    if (!f32 && !f64 && has(mods, "sat")) {
                        throw unsupported(in, "saturating integer add");
                    }
                    break;
                case "sub":
                    in.op = f32 ? Op.SUB_F32 : f64 ? Op.SUB_F64 : Op.SUB;
                    nsrc = 2;
                    if (!f32 && !f64 && has(mods, "sat")) {
                        throw unsupported(in, "saturating integer sub");
                    }
                    break;
                case "mul":
                    if (f32 || f64) {
                        in.op = f32 ? Op.MUL_F32 : Op.MUL_F64;
                    } else if (has(mods, "hi")) {
                        in.op = Op.MUL_HI;
                    } else if (has(mods, "wide")) {
                        in.op = Op.MUL_WIDE;
                    } else {
                        in.op = Op.MUL_LO;
                    }
                    nsrc = 2;
                    break;
                case "mad":
                case "fma":
                    if (f32 || f64) {
                        in.op = f32 ? Op.FMA_F32 : Op.FMA_F64;
                        if (base.equals("mad") && !has(mods, "rn")) {
                            throw unsupported(in, "mad.f32 without .rn has unspecified rounding");
                        }
                    } else if (has(mods, "hi")) {
                        in.op = Op.MAD_HI;
                    } else if (has(mods, "wide")) {
                        in.op = Op.MAD_WIDE;
                    } else {
                        in.op = Op.MAD_LO;
                    }
                    nsrc = 3;
                    break;
                case "mul24":
                    if (has(mods, "hi")) {
                        throw unsupported(in, "mul24.hi");
                    }
                    in.op = Op.MUL24_LO;
                    nsrc = 2;
                    break;
                case "mad24":
                    if (has(mods, "hi")) {
                        throw unsupported(in, "mad24.hi");
                    }
                    in.op = Op.MAD24_LO;
                    nsrc = 3;
                    break;
                case "sad":
                    in.op = Op.SAD;
                    nsrc = 3;
                    break;
                case "div":
                    if (f32) {
                        in.op = has(mods, "approx") || has(mods, "full") ? Op.DIV_APPROX_F32 : Op.DIV_F32;
                        if (has(mods, "full")) {
                            in.mode = 1;
                        }
                    } else {
                        in.op = f64 ? Op.DIV_F64 : Op.DIV;
                    }
                    nsrc = 2;
                    break;
                case "rem":
                    in.op = Op.REM;
                    nsrc = 2;
                    break;
                case "min":
                    in.op = f32 ? Op.MIN_F32 : f64 ? Op.MIN_F64 : Op.MIN;
                    if (has(mods, "NaN") || has(mods, "xorsign")) {
                        throw unsupported(in, ".NaN/.xorsign min");
                    }
                    nsrc = 2;
                    break;
                case "max":
                    in.op = f32 ? Op.MAX_F32 : f64 ? Op.MAX_F64 : Op.MAX;
                    if (has(mods, "NaN") || has(mods, "xorsign")) {
                        throw unsupported(in, ".NaN/.xorsign max");
                    }
                    nsrc = 2;
                    break;
                case "abs":
                    in.op = f32 ? Op.ABS_F32 : f64 ? Op.ABS_F64 : Op.ABS;
                    nsrc = 1;
                    break;
                case "neg":
                    in.op = f32 ? Op.NEG_F32 : f64 ? Op.NEG_F64 : Op.NEG;
                    nsrc = 1;
                    break;
                case "and":
                    in.op = Op.AND;
                    nsrc = 2;
                    break;
                case "or":
                    in.op = Op.OR;
                    nsrc = 2;
                    break;
                case "xor":
                    in.op = Op.XOR;
                    nsrc = 2;
                    break;
                case "not":
                    in.op = kind == Op.T_PRED ? Op.NOT_PRED : Op.NOT;
                    nsrc = 1;
                    break;
                case "cnot":
                    in.op = Op.CNOT;
                    nsrc = 1;
                    break;
                case "shl":
                    in.op = Op.SHL;
                    nsrc = 2;
                    break;
                case "shr":
                    in.op = Op.SHR;
                    nsrc = 2;
                    break;
                case "popc":
                    in.op = Op.POPC;
                    nsrc = 1;
                    break;
                case "clz":
                    in.op = Op.CLZ;
                    nsrc = 1;
                    break;
                case "brev":
                    in.op = Op.BREV;
                    nsrc = 1;
                    break;
                case "bfe":
                    in.op = Op.BFE;
                    nsrc = 3;
                    break;
                case "bfi":
                    in.op = Op.BFI;
                    nsrc = 4;
                    break;
                case "prmt":
                    if (mods.length > 2) {
                        throw unsupported(in, "prmt modes other than the default");
                    }
                    in.op = Op.PRMT;
                    nsrc = 3;
                    break;
                case "shf":
                    in.op = Op.SHF;
                    in.mode = has(mods, "l") ? 0 : 1;
                    in.mode2 = has(mods, "clamp") ? 1 : 0;
                    nsrc = 3;
                    break;
                case "lop3":
                    in.op = Op.LOP3;
                    nsrc = 4;
                    break;
                case "bfind":
                    in.op = Op.BFIND;
                    in.mode = has(mods, "shiftamt") ? 1 : 0;
                    nsrc = 1;
                    break;
                case "copysign":
                    if (!f32) {
                        throw unsupported(in, "copysign other than f32");
                    }
                    in.op = Op.COPYSIGN_F32;
                    nsrc = 2;
                    break;
                case "rcp":
                case "sqrt":
                case "rsqrt":
                case "ex2":
                case "lg2":
                case "sin":
                case "cos":
                case "tanh":
                    nsrc = 1;
                    if (f32) {
                        boolean approx = has(mods, "approx");
                        switch (base) {
                            case "rcp": in.op = Op.RCP_F32; break;
                            case "sqrt": in.op = Op.SQRT_F32; break;
                            case "rsqrt": in.op = Op.RSQRT_F32; break;
                            case "ex2": in.op = Op.EX2_F32; break;
                            case "lg2": in.op = Op.LG2_F32; break;
                            case "sin": in.op = Op.SIN_F32; break;
                            case "cos": in.op = Op.COS_F32; break;
                            default: in.op = Op.TANH_F32; break;
                        }
                        in.mode = approx ? 1 : 0;
                    } else if (f64) {
                        switch (base) {
                            case "rcp": in.op = Op.RCP_F64; break;
                            case "sqrt": in.op = Op.SQRT_F64; break;
                            case "rsqrt": in.op = Op.RSQRT_F64; break;
                            default: throw unsupported(in, base + ".f64");
                        }
                    } else {
                        throw unsupported(in, "");
                    }
                    break;
                default:
                    throw unsupported(in, "");
            }
            int srcBits = bits;
            int srcKind = kind;
            if (in.op == Op.MUL_WIDE || in.op == Op.MAD_WIDE) {
                in.width = bits; // source width; result is 2x
            }
            if (in.op == Op.SHL || in.op == Op.SHR || in.op == Op.BFE || in.op == Op.BFI) {
                // shift amounts / bit positions are u32
            }
            if (ops.size() != nsrc + 1) {
                throw error(line, "'" + in.text + "' needs " + (nsrc + 1) + " operands, has " + ops.size());
            }
            in.d = dst(ops.get(0), line);
            in.a = src(ops.get(1), srcKind, srcBits, line);
            if (nsrc > 1) {
                boolean u32Operand = in.op == Op.SHL || in.op == Op.SHR;
                in.b = src(ops.get(2), u32Operand ? Op.T_U : srcKind, u32Operand ? 32 : srcBits, line);
            }
            if (nsrc > 2) {
                boolean u32Operand = in.op == Op.BFE || in.op == Op.SHF;
                int cb = in.op == Op.MAD_WIDE ? srcBits * 2 : srcBits;
                in.c = src(ops.get(3), u32Operand ? Op.T_U : srcKind, u32Operand ? 32 : cb, line);
                if (in.op == Op.BFE) {
                    in.b = src(ops.get(2), Op.T_U, 32, line);
                }
            }
            if (nsrc > 3) {
                in.e = src(ops.get(4), Op.T_U, 32, line);
                if (in.op == Op.BFI) {
                    in.c = src(ops.get(3), Op.T_U, 32, line);
                }
            }
        }

        private void decodeSelp(Insn in, String[] mods, List<String> ops, int line) {
            need(in, ops, 4);
            String type = lastType(mods, in);
            int bits = typeBits(type);
            int kind = typeKind(type);
            in.op = Op.SELP;
            in.width = bits;
            in.d = dst(ops.get(0), line);
            in.a = src(ops.get(1), kind, bits, line);
            in.b = src(ops.get(2), kind, bits, line);
            in.c = src(ops.get(3), Op.T_PRED, 1, line);
        }

        private int cmp(String m, Insn in) {
            switch (m) {
                case "eq": return Op.CMP_EQ;
                case "ne": return Op.CMP_NE;
                case "lt": return Op.CMP_LT;
                case "le": return Op.CMP_LE;
                case "gt": return Op.CMP_GT;
                case "ge": return Op.CMP_GE;
                case "equ": return Op.CMP_EQU;
                case "neu": return Op.CMP_NEU;
                case "ltu": return Op.CMP_LTU;
                case "leu": return Op.CMP_LEU;
                case "gtu": return Op.CMP_GTU;
                case "geu": return Op.CMP_GEU;
                case "num": return Op.CMP_NUM;
                case "nan": return Op.CMP_NAN;
                case "lo": return Op.CMP_LO;
                case "ls": return Op.CMP_LS;
                case "hi": return Op.CMP_HI;
                case "hs": return Op.CMP_HS;
                default: throw unsupported(in, "comparison ." + m);
            }
        }

        private void decodeSetp(Insn in, String[] mods, List<String> ops, int line) {
            String type = lastType(mods, in);
            int bits = typeBits(type);
            int kind = typeKind(type);
            in.mode = cmp(mods[1], in);
            in.mode2 = -1;
            if (mods.length > 3 && (mods[2].equals("and") || mods[2].equals("or") || mods[2].equals("xor"))) {
                in.mode2 = mods[2].equals("and") ? 0 : mods[2].equals("or") ? 1 : 2;
            }
            if (has(mods, "ftz")) {
                in.flags |= Op.FTZ;
            }
            if (kind == Op.T_S) {
                in.flags |= Op.SIGNED;
            }
            in.width = bits;
            if (kind == Op.T_F) {
                if (isHalfFloat(type)) {
                    throw unsupported(in, "half-precision compare");
                }
                in.op = bits == 32 ? Op.SETP_F32 : Op.SETP_F64;
            } else {
                in.op = Op.SETP_INT;
            }
            destPair(in, ops.get(0), line);
            in.a = src(ops.get(1), kind, bits, line);
            in.b = src(ops.get(2), kind, bits, line);
            if (in.mode2 >= 0) {
                if (ops.size() != 4) {
                    throw error(line, "'" + in.text + "' needs a combining predicate");
                }
                String c = ops.get(3);
                if (c.startsWith("!")) {
                    in.flags |= Op.CC; // reuse: negate c
                    c = c.substring(1);
                }
                in.c = src(c, Op.T_PRED, 1, line);
            } else if (ops.size() != 3) {
                throw error(line, "'" + in.text + "' needs 3 operands");
            }
        }

        private void decodeTestp(Insn in, String[] mods, List<String> ops, int line) {
            need(in, ops, 2);
            String type = lastType(mods, in);
            int bits = typeBits(type);
            if (isHalfFloat(type)) {
                throw unsupported(in, "half-precision testp");
            }
            in.op = bits == 32 ? Op.TESTP_F32 : Op.TESTP_F64;
            switch (mods[1]) {
                case "finite": in.mode = 0; break;
                case "infinite": in.mode = 1; break;
                case "number": in.mode = 2; break;
                case "notanumber": in.mode = 3; break;
                case "normal": in.mode = 4; break;
                case "subnormal": in.mode = 5; break;
                default: throw unsupported(in, "testp." + mods[1]);
            }
            in.d = dst(ops.get(0), line);
            in.a = src(ops.get(1), Op.T_F, bits, line);
        }

        private void decodeCvt(Insn in, String[] mods, List<String> ops, int line) {
            List<String> types = new ArrayList<>();
            int rnd = Op.RND_NONE;
            for (int k = 1; k < mods.length; k++) {
                String m = mods[k];
                if (typeBits(m) > 0) {
                    types.add(m);
                } else {
                    switch (m) {
                        case "rn": rnd = Op.RND_RN; break;
                        case "rz": rnd = Op.RND_RZ; break;
                        case "rm": rnd = Op.RND_RM; break;
                        case "rp": rnd = Op.RND_RP; break;
                        case "rni": rnd = Op.RND_RNI; break;
                        case "rzi": rnd = Op.RND_RZI; break;
                        case "rmi": rnd = Op.RND_RMI; break;
                        case "rpi": rnd = Op.RND_RPI; break;
                        case "ftz": in.flags |= Op.FTZ; break;
                        case "sat": in.flags |= Op.SAT; break;
                        default: throw unsupported(in, "cvt modifier ." + m);
                    }
                }
            }
            if (types.size() != 2) {
                throw unsupported(in, "cvt needs two types");
            }
            String dt = types.get(0);
            String st = types.get(1);
            if (isHalfFloat(dt) || isHalfFloat(st)) {
                decodeCvtHalf(in, dt, st, rnd, ops, line);
                return;
            }
            need(in, ops, 2);
            int dbits = typeBits(dt);
            int sbits = typeBits(st);
            int dkind = typeKind(dt);
            int skind = typeKind(st);
            in.op = Op.CVT;
            in.mode = rnd;
            // dst kind/width in width (low 8 bits bits, next kind), src in mode2
            in.width = dbits | (dkind << 8);
            in.mode2 = sbits | (skind << 8);
            in.d = dst(ops.get(0), line);
            in.a = src(ops.get(1), skind, sbits, line);
        }

        /**
         * The conversions of 16-bit float storage: f16/bf16 to f32 (exact) and f32 to f16/bf16/f16x2/bf16x2 with
         * .rn. Other roundings, .ftz/.sat/.relu/.satfinite and other type pairs are rejected.
         */
        private void decodeCvtHalf(Insn in, String dt, String st, int rnd, List<String> ops, int line) {
            if (in.flags != 0) {
                throw unsupported(in, ".ftz/.sat on half-precision conversions");
            }
            boolean bf16 = dt.startsWith("bf") || st.startsWith("bf");
            in.mode = bf16 ? 1 : 0;
            if (dt.equals("f32") && (st.equals("f16") || st.equals("bf16"))) {
                if (rnd != Op.RND_NONE && rnd != Op.RND_RN) {
                    throw unsupported(in, "a rounding modifier other than .rn on an exact widening");
                }
                need(in, ops, 2);
                in.op = Op.CVT_F32_HALF;
                in.d = dst(ops.get(0), line);
                in.a = src(ops.get(1), Op.T_B, 16, line); // a literal source is raw bits
                return;
            }
            if (!st.equals("f32") || !isHalfFloat(dt)) {
                throw unsupported(in, "only f16/bf16 <-> f32 half-precision conversions are implemented");
            }
            if (rnd != Op.RND_RN) {
                throw unsupported(in, "f32 to " + dt + " rounding other than .rn");
            }
            boolean pair = dt.endsWith("x2");
            need(in, ops, pair ? 3 : 2);
            in.op = pair ? Op.CVT_HALF2_F32 : Op.CVT_HALF_F32;
            in.d = dst(ops.get(0), line);
            in.a = src(ops.get(1), Op.T_F, 32, line);
            if (pair) {
                in.b = src(ops.get(2), Op.T_F, 32, line);
            }
        }

        /** Scope bits of a memory operation or fence: {@code .cta} (membar.cta too), {@code .cluster}; wider is 0. */
        private int scope(String[] mods) {
            return has(mods, "cta") ? Op.SEM_SCOPE_CTA : has(mods, "cluster") ? Op.SEM_SCOPE_CLUSTER : 0;
        }

        private int space(String[] mods, Insn in) {
            int s = Op.SPACE_GENERIC;
            for (int k = 1; k < mods.length; k++) {
                switch (mods[k]) {
                    case "global": s = Op.SPACE_GLOBAL; break;
                    case "shared": case "shared::cta": s = Op.SPACE_SHARED; break;
                    case "shared::cluster": s = Op.SPACE_DSMEM; break;
                    case "local": s = Op.SPACE_LOCAL; break;
                    case "param": case "param::entry": s = Op.SPACE_PARAM; break;
                    case "const": s = Op.SPACE_CONST; break;
                    default: break;
                }
            }
            return s;
        }

        private void decodeCvta(Insn in, String[] mods, List<String> ops, int line) {
            need(in, ops, 2);
            boolean to = has(mods, "to");
            int sp = space(mods, in);
            if (sp == Op.SPACE_GENERIC || sp == Op.SPACE_PARAM) {
                throw unsupported(in, "cvta needs .global, .shared, .local or .const");
            }
            in.op = to ? Op.CVTA_FROM_GENERIC : Op.CVTA_TO_GENERIC;
            in.flags = sp << 8;
            in.width = typeBits(lastType(mods, in));
            in.d = dst(ops.get(0), line);
            in.a = src(ops.get(1), Op.T_U, 64, line);
        }

        private void decodeLdSt(Insn in, boolean store, String[] mods, List<String> ops, int line) {
            need(in, ops, 2);
            int sp = space(mods, in);
            String type = lastType(mods, in);
            int bits = typeBits(type);
            int kind = typeKind(type);
            if (bits == 128 || bits == 1) {
                throw unsupported(in, "type ." + type);
            }
            int lanes = 1;
            for (int k = 1; k < mods.length; k++) {
                if (mods[k].equals("v2")) {
                    lanes = 2;
                } else if (mods[k].equals("v4")) {
                    lanes = 4;
                } else if (mods[k].equals("v8")) {
                    throw unsupported(in, ".v8");
                }
            }
            in.op = store ? Op.ST : Op.LD;
            in.width = bits / 8;
            in.flags = (sp << 8) | (kind == Op.T_S ? Op.SIGNED : 0);
            for (int k = 1; k < mods.length; k++) {
                switch (mods[k]) {
                    case "volatile": case "relaxed": in.sem |= Op.SEM_STRONG; break;
                    case "acquire": in.sem |= Op.SEM_STRONG | Op.SEM_ACQUIRE; break;
                    case "release": in.sem |= Op.SEM_STRONG | Op.SEM_RELEASE; break;
                    case "nc": in.sem |= store ? 0 : Op.SEM_NONCOHERENT; break;
                    default: break;
                }
            }
            if ((in.sem & Op.SEM_STRONG) != 0) {
                in.sem |= scope(mods);
                if (!store) {
                    in.flags |= Op.POLL;
                }
            }
            in.mode = lanes;
            String addr = store ? ops.get(0) : ops.get(1);
            String val = store ? ops.get(1) : ops.get(0);
            long[] ad = address(addr, line);
            in.a = (int) ad[0];
            in.imm = ad[1];
            if (lanes > 1) {
                in.vec = vector(val, !store, kind, bits, line);
                if (in.vec.length != lanes) {
                    throw error(line, "vector operand has " + in.vec.length + " elements, expected " + lanes);
                }
            } else if (store) {
                in.b = src(val, kind, bits, line);
            } else {
                in.d = dst(val, line);
            }
        }

        private void decodeAtom(Insn in, boolean red, String[] mods, List<String> ops, int line) {
            int sp = space(mods, in);
            String type = lastType(mods, in);
            int bits = typeBits(type);
            int kind = typeKind(type);
            int aop = -1;
            for (int k = 1; k < mods.length; k++) {
                switch (mods[k]) {
                    case "add": aop = Op.ATOM_ADD; break;
                    case "min": aop = Op.ATOM_MIN; break;
                    case "max": aop = Op.ATOM_MAX; break;
                    case "exch": aop = Op.ATOM_EXCH; break;
                    case "cas": aop = Op.ATOM_CAS; break;
                    case "and": aop = Op.ATOM_AND; break;
                    case "or": aop = Op.ATOM_OR; break;
                    case "xor": aop = Op.ATOM_XOR; break;
                    case "inc": aop = Op.ATOM_INC; break;
                    case "dec": aop = Op.ATOM_DEC; break;
                    case "v2": case "v4": case "v8": throw unsupported(in, "vector atomics");
                    default: break;
                }
            }
            if (aop < 0) {
                throw unsupported(in, "unknown atomic operation");
            }
            if (isHalfFloat(type)) {
                throw unsupported(in, "half-precision atomics");
            }
            in.op = red ? Op.RED : Op.ATOM;
            in.sem = Op.SEM_STRONG | scope(mods)
                    | (has(mods, "acquire") || has(mods, "acq_rel") ? Op.SEM_ACQUIRE : 0)
                    | (has(mods, "release") || has(mods, "acq_rel") ? Op.SEM_RELEASE : 0);
            in.mode = aop;
            in.width = bits / 8;
            in.flags = (sp << 8) | (kind == Op.T_S ? Op.SIGNED : 0);
            in.mode2 = kind;
            int k = 0;
            if (!red) {
                in.d = dst(ops.get(k++), line);
            }
            long[] ad = address(ops.get(k++), line);
            in.a = (int) ad[0];
            in.imm = ad[1];
            in.b = src(ops.get(k++), kind, bits, line);
            if (aop == Op.ATOM_CAS) {
                in.c = src(ops.get(k++), kind, bits, line);
            }
            if (k != ops.size()) {
                throw error(line, "wrong operand count in '" + in.text + "'");
            }
        }

        private void decodeBarrier(Insn in, String[] mods, List<String> ops, int line) {
            // bar.sync a{,b} / barrier.sync{.aligned} a{,b} / bar.arrive a,b / bar.red.op.type d, a{,b}, {!}c
            // bar.warp.sync mask / barrier.cluster.* (unsupported)
            if (has(mods, "warp")) {
                need(in, ops, 1);
                in.op = Op.BAR_WARP_SYNC;
                in.a = src(ops.get(0), Op.T_U, 32, line);
                return;
            }
            if (has(mods, "cluster")) {
                if (has(mods, "arrive")) {
                    in.op = Op.BAR_CLUSTER_ARRIVE;
                } else if (has(mods, "wait")) {
                    in.op = Op.BAR_CLUSTER_WAIT;
                } else {
                    throw unsupported(in, "barrier.cluster needs .arrive or .wait");
                }
                if (!ops.isEmpty()) {
                    throw error(line, "'" + in.text + "' takes no operands");
                }
                return;
            }
            if (has(mods, "red")) {
                in.op = Op.BAR_RED;
                in.mode = has(mods, "popc") ? 0 : has(mods, "and") ? 1 : 2;
                if (ops.size() != 3 && ops.size() != 4) {
                    throw error(line, "'" + in.text + "' has a wrong operand count");
                }
                in.d = dst(ops.get(0), line);
                in.a = src(ops.get(1), Op.T_U, 32, line);
                in.b = ops.size() == 4 ? src(ops.get(2), Op.T_U, 32, line) : -1;
                String p = ops.get(ops.size() - 1);
                if (p.startsWith("!")) {
                    in.flags |= Op.CC;
                    p = p.substring(1);
                }
                in.c = src(p, Op.T_PRED, 1, line);
                return;
            }
            boolean arrive = has(mods, "arrive");
            if (!arrive && !has(mods, "sync") && mods.length > 1 && !has(mods, "aligned")) {
                throw unsupported(in, "");
            }
            in.op = arrive ? Op.BAR_ARRIVE : Op.BAR_SYNC;
            if (ops.isEmpty() || ops.size() > 2) {
                throw error(line, "'" + in.text + "' has a wrong operand count");
            }
            in.a = src(ops.get(0), Op.T_U, 32, line);
            in.b = ops.size() == 2 ? src(ops.get(1), Op.T_U, 32, line) : -1;
        }

        private void decodeShfl(Insn in, String[] mods, List<String> ops, int line) {
            if (!has(mods, "sync")) {
                throw unsupported(in, "shfl without .sync (removed for sm_70+)");
            }
            in.op = Op.SHFL;
            if (has(mods, "up")) {
                in.mode = Op.SHFL_UP;
            } else if (has(mods, "down")) {
                in.mode = Op.SHFL_DOWN;
            } else if (has(mods, "bfly")) {
                in.mode = Op.SHFL_BFLY;
            } else if (has(mods, "idx")) {
                in.mode = Op.SHFL_IDX;
            } else {
                throw unsupported(in, "shfl mode");
            }
            need(in, ops, 5);
            destPair(in, ops.get(0), line);
            in.a = src(ops.get(1), Op.T_B, 32, line);
            in.b = src(ops.get(2), Op.T_U, 32, line);
            in.c = src(ops.get(3), Op.T_U, 32, line);
            in.e = src(ops.get(4), Op.T_U, 32, line);
        }

        private List<String> parenList(String s) {
            String t = s.trim();
            t = t.substring(1, t.length() - 1).trim();
            List<String> out = new ArrayList<>();
            if (!t.isEmpty()) {
                for (String x : t.split(",")) {
                    out.add(x.trim());
                }
            }
            return out;
        }

        private int[] frameOperand(String name, Insn in) {
            int[] f = frameParam(name);
            if (f == null) {
                throw error(in.line, "call operand '" + name + "' is not a .param variable");
            }
            return f;
        }

        private void decodeCall(Insn in, List<String> ops, int line) {
            int k = 0;
            Insn.CallSite cs = new Insn.CallSite();
            if (k < ops.size() && ops.get(k).startsWith("(")) {
                List<String> rets = parenList(ops.get(k++));
                if (rets.size() > 1) {
                    throw unsupported(in, "several return values");
                }
                if (rets.size() == 1) {
                    int[] f = frameOperand(rets.get(0), in);
                    cs.retCallerOffset = f[0];
                }
            }
            if (k >= ops.size()) {
                throw error(line, "call without a target");
            }
            String target = ops.get(k++).trim();
            if (target.startsWith("%") || isRegister(target)) {
                throw unsupported(in, "indirect calls through a register");
            }
            cs.callee = target;
            List<String> args = k < ops.size() && ops.get(k).startsWith("(") ? parenList(ops.get(k++)) : List.of();
            if (k < ops.size()) {
                throw unsupported(in, "call with a prototype or extra operands");
            }
            cs.argCallerOffsets = new int[args.size()];
            cs.argSizes = new int[args.size()];
            for (int i = 0; i < args.size(); i++) {
                int[] f = frameOperand(args.get(i), in);
                cs.argCallerOffsets[i] = f[0];
                cs.argSizes[i] = f[1];
            }
            in.op = Op.CALL;
            in.call = cs;
        }

        private void decodeVote(Insn in, String[] mods, List<String> ops, int line) {
            if (!has(mods, "sync")) {
                throw unsupported(in, "vote without .sync (removed for sm_70+)");
            }
            in.op = Op.VOTE;
            if (has(mods, "all")) {
                in.mode = Op.VOTE_ALL;
            } else if (has(mods, "any")) {
                in.mode = Op.VOTE_ANY;
            } else if (has(mods, "uni")) {
                in.mode = Op.VOTE_UNI;
            } else if (has(mods, "ballot")) {
                in.mode = Op.VOTE_BALLOT;
            } else {
                throw unsupported(in, "vote mode");
            }
            need(in, ops, 3);
            in.d = dst(ops.get(0), line);
            String p = ops.get(1);
            if (p.startsWith("!")) {
                in.flags |= Op.CC;
                p = p.substring(1);
            }
            in.a = src(p, Op.T_PRED, 1, line);
            in.b = src(ops.get(2), Op.T_U, 32, line);
        }

        // ---------------------------------------------------------------- finish

        Unit build(int headerLine) {
            Insn[] insns = code.toArray(new Insn[0]);
            for (Object[] f : branchFixups) {
                Insn in = (Insn) f[0];
                String label = ((String) f[1]).trim();
                Integer pc = labels.get(label);
                if (pc == null) {
                    throw error(in.line, "unknown branch target " + label);
                }
                in.imm = pc;
            }
            // Shared layout: static variables, then dynamic (extern) shared aligned to 16.
            int dynamicOffset = align(sharedBytes, 16);
            RegisterAllocator.Allocation registers = RegisterAllocator.allocate(insns, registerSlots);
            int constBase = registers.slots();
            int specialBase = constBase + constValues.size();
            int slots = specialBase + specialSlots.size();
            long[] template = new long[slots];
            for (int k = 0; k < constValues.size(); k++) {
                template[constBase + k] = constValues.get(k);
            }
            List<KernelCode.GlobalFixup> fixups = new ArrayList<>();
            List<Integer> localSlots = new ArrayList<>();
            for (Object[] s : symbolSlots) {
                int idx = (Integer) s[0];
                String spaceName = (String) s[1];
                String sym = (String) s[2];
                long off = (Long) s[3];
                if (spaceName.equals("shared")) {
                    Integer o = shared.get(sym);
                    template[constBase + idx] = (o != null ? o : dynamicOffset) + off;
                } else if (spaceName.equals("local")) {
                    template[constBase + idx] = locals.get(sym) + off;
                    localSlots.add(constBase + idx);
                } else {
                    fixups.add(new KernelCode.GlobalFixup(constBase + idx, sym, off));
                }
            }
            int[] specialSlotArr = new int[specialSlots.size()];
            int[] specialKindArr = new int[specialSlots.size()];
            Map<Integer, Integer> specialIndex = new HashMap<>();
            int k = 0;
            for (Map.Entry<Integer, Integer> e : specialSlots.entrySet()) {
                specialSlotArr[k] = specialBase + k;
                specialKindArr[k] = e.getKey();
                specialIndex.put(e.getValue(), specialBase + k);
                k++;
            }
            for (Insn in : insns) {
                in.guard = remap(registers, in.guard, constBase, specialIndex);
                in.d = remap(registers, in.d, constBase, specialIndex);
                in.d2 = remap(registers, in.d2, constBase, specialIndex);
                in.a = remap(registers, in.a, constBase, specialIndex);
                in.b = remap(registers, in.b, constBase, specialIndex);
                in.c = remap(registers, in.c, constBase, specialIndex);
                in.e = remap(registers, in.e, constBase, specialIndex);
                if (in.vec != null) {
                    for (int v = 0; v < in.vec.length; v++) {
                        in.vec[v] = remap(registers, in.vec[v], constBase, specialIndex);
                    }
                }
            }
            int lastOp = insns.length == 0 ? -1 : insns[insns.length - 1].op;
            if (lastOp != Op.EXIT && lastOp != Op.BRA && lastOp != Op.RET) {
                Insn ret = new Insn();
                ret.op = entry ? Op.EXIT : Op.RET;
                ret.line = headerLine;
                ret.text = "(end of " + name + ")";
                Insn[] withRet = java.util.Arrays.copyOf(insns, insns.length + 1);
                withRet[insns.length] = ret;
                insns = withRet;
            }
            KernelCode code = new KernelCode(module, name, params, paramBytes, slots, template, specialSlotArr,
                    specialKindArr, insns, hasExternShared ? dynamicOffset : sharedBytes, dynamicOffset, localBytes,
                    fixups, frameBytes, clusterDims, explicitCluster, maxThreads);
            int[] formalOffsets = formals.stream().mapToInt(f -> f[0]).toArray();
            int[] formalSizes = formals.stream().mapToInt(f -> f[1]).toArray();
            return new Unit(code, entry, frameBytes, formalOffsets, formalSizes, retOffset, retSize, localSlots,
                    headerLine);
        }

        private int remap(RegisterAllocator.Allocation registers, int slot, int constBase,
                          Map<Integer, Integer> specialIndex) {
            if (slot == -1) {
                return -1;
            }
            if (slot <= Integer.MIN_VALUE + 64) {
                return specialIndex.get(slot);
            }
            if (slot < 0) {
                return constBase + (-slot - 2);
            }
            return registers.slotOf()[slot];
        }
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
