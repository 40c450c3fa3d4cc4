package io.github.groupnorm4j.cuda;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.function.BiFunction;

/** For tests: a {@link GpuDriver} that shows each call to {@code override} before passing it to {@code target}. */
final class DriverProxy {
    private DriverProxy() {
    }

    /**
     * {@code override.apply(method name, arguments)} runs first: a non-null result is returned instead of calling
     * {@code target} (so it may stand for the driver's answer), null passes the call on.
     */
    static GpuDriver around(GpuDriver target, BiFunction<String, Object[], Object> override) {
        return (GpuDriver) Proxy.newProxyInstance(GpuDriver.class.getClassLoader(), new Class<?>[] {GpuDriver.class},
                (proxy, method, args) -> {
                    Object result = override.apply(method.getName(), args);
                    if (result != null) {
                        return result;
                    }
                    try {
                        return method.invoke(target, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
