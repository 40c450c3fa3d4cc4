package io.github.groupnorm4j.cuda;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Marks tests that need a CUDA device: tagged {@code gpu}, and without a device every test method is reported as
 * skipped with the probe's reason (printed once, so CI logs say why).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("gpu")
@ExtendWith(RequiresCuda.Condition.class)
public @interface RequiresCuda {

    /** Disables each test method, not the class, so every skipped test is counted and carries the reason. */
    final class Condition implements ExecutionCondition {
        private static final AtomicBoolean PRINTED = new AtomicBoolean();

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            CudaAvailability a = CudaAvailability.probe();
            if (a.isAvailable()) {
                return ConditionEvaluationResult.enabled("CUDA available");
            }
            if (PRINTED.compareAndSet(false, true)) {
                System.out.println("SKIPPED gpu tests: no usable CUDA device: " + a.reason());
            }
            if (context.getTestMethod().isEmpty()) {
                return ConditionEvaluationResult.enabled("class runs; its test methods are skipped");
            }
            return ConditionEvaluationResult.disabled("no usable CUDA device: " + a.reason());
        }
    }
}
