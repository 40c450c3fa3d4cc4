package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.BenchCase;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.GroupNormSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LaunchPlannerTest {
    private final LaunchPlanner h100 = new LaunchPlanner(132, LaunchPlanner.Tuning.forDevice(227 * 1024));

    private static List<GroupNormSpec> allSpecs() {
        List<GroupNormSpec> specs = new ArrayList<>(BenchCase.suite());
        CheckCase.suite().forEach(c -> specs.add(c.spec()));
        specs.add(GroupNormSpec.builder().batch(70000).channels(64).groups(32).spatial(3).build());
        return specs;
    }

    @Test
    void everyShapeIsWithinCudaLimits() {
        for (GroupNormSpec s : allSpecs()) {
            List<LaunchPlanner.Shape> shapes = new ArrayList<>(List.of(h100.forwardStats(s), h100.rows(s),
                    h100.channelSums(s), h100.perChannel(s)));
            if (h100.forwardFused(s) != null) {
                shapes.add(h100.forwardFused(s));
                assertTrue(h100.forwardFused(s).sharedBytes <= LaunchPlanner.FUSED_SHARED_BUDGET, s.toString());
            }
            if (h100.backwardFused(s) != null) {
                shapes.add(h100.backwardFused(s));
            }
            for (LaunchPlanner.Shape shape : shapes) {
                assertTrue(shape.block % 32 == 0 && shape.block >= 32 && shape.block <= 1024, s + " " + shape);
                assertTrue(shape.gridX >= 1 && shape.gridX <= Integer.MAX_VALUE, s + " " + shape);
                assertTrue(shape.gridY >= 1 && shape.gridY <= 65535, s + " " + shape);
            }
        }
    }

    @Test
    void rowsSplitIntoChunksOnlyWhenTheGridIsSmall() {
        GroupNormSpec batch1 = BenchCase.suite().get(0);
        LaunchPlanner.Shape s = h100.rows(batch1);
        assertEquals(256, s.gridX);
        assertTrue(s.gridY > 1, s.toString());
        GroupNormSpec big = BenchCase.suite().get(2);
        assertEquals(1, h100.rows(big).gridY);
        GroupNormSpec tiny = GroupNormSpec.builder().batch(1).channels(4).groups(2).spatial(1).build();
        assertEquals(1, h100.rows(tiny).gridY);
        assertEquals(32, h100.rows(tiny).block);
    }

    @Test
    void kernelPathsForThePerformanceSuite() {
        List<GroupNormSpec> suite = BenchCase.suite();
        // [1,256,128x128]: 32 slices of 512 KiB: split statistics over many blocks, not fused.
        assertEquals(null, h100.forwardFused(suite.get(0)));
        assertTrue(h100.forwardStats(suite.get(0)).gridY > 4, h100.forwardStats(suite.get(0)).toString());
        // [32,256,56x56]: 1024 slices of 98 KiB: fused forward (x read once); the backward pair does not fit.
        assertEquals(1024, h100.forwardFused(suite.get(2)).gridX);
        assertEquals(null, h100.backwardFused(suite.get(2)));
        // [4,1280,8x8] (1.25 MiB): one launch forward, fused backward.
        assertTrue(h100.forwardFused(suite.get(3)) != null && h100.backwardFused(suite.get(3)) != null);
    }

    @Test
    void perChannelCoversEveryChannel() {
        GroupNormSpec s = GroupNormSpec.builder().batch(1).channels(1280).groups(32).build();
        LaunchPlanner.Shape shape = h100.perChannel(s);
        assertTrue(shape.gridX * shape.block >= 1280);
    }
}
