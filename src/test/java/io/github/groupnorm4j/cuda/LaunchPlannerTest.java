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
    private final LaunchPlanner h100 = new LaunchPlanner(132);

    private static List<GroupNormSpec> allSpecs() {
        List<GroupNormSpec> specs = new ArrayList<>(BenchCase.suite());
        CheckCase.suite().forEach(c -> specs.add(c.spec()));
        specs.add(GroupNormSpec.builder().batch(70000).channels(64).groups(32).spatial(3).build());
        return specs;
    }

    @Test
    void everyShapeIsWithinCudaLimits() {
        for (GroupNormSpec s : allSpecs()) {
            for (LaunchPlanner.Shape shape : List.of(h100.forwardStats(s), h100.rows(s), h100.channelSums(s),
                    h100.perChannel(s))) {
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
    void perChannelCoversEveryChannel() {
        GroupNormSpec s = GroupNormSpec.builder().batch(1).channels(1280).groups(32).build();
        LaunchPlanner.Shape shape = h100.perChannel(s);
        assertTrue(shape.gridX * shape.block >= 1280);
    }
}
