package io.github.groupnorm4j.cli;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.Norm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/** {@code --name value} options of one command, checked against the names the command accepts. */
final class Args {
    private final String command;
    private final Map<String, String> values = new LinkedHashMap<>();

    private Args(String command) {
        this.command = command;
    }

    static Args parse(String command, String[] argv, int from, Set<String> allowed) {
        Args a = new Args(command);
        for (int i = from; i < argv.length; i++) {
            String arg = argv[i];
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new UsageException(command + ": unexpected argument '" + arg + "' (options look like --name value)");
            }
            String name = arg.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (!allowed.contains(name)) {
                throw new UsageException(command + ": unknown option --" + name + " (accepted: --"
                        + String.join(", --", allowed) + ")");
            }
            if (value == null) {
                if (i + 1 >= argv.length) {
                    throw new UsageException(command + ": option --" + name + " needs a value");
                }
                value = argv[++i];
            }
            if (a.values.put(name, value) != null) {
                throw new UsageException(command + ": option --" + name + " given twice");
            }
        }
        return a;
    }

    /** The command these options belong to, for messages. */
    String command() {
        return command;
    }

    String get(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    String required(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new UsageException(command + ": missing required option --" + name);
        }
        return v;
    }

    Path path(String name) {
        String v = values.get(name);
        return v == null ? null : Path.of(v);
    }

    Path requiredPath(String name) {
        return Path.of(required(name));
    }

    int requiredInt(String name) {
        String v = required(name);
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " must be an integer, got '" + v + "'");
        }
    }

    float floatValue(String name, float fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Float.parseFloat(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " must be a number, got '" + v + "'");
        }
    }

    /** An {@code on|off} switch. */
    boolean onOff(String name, boolean fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "on":
                return true;
            case "off":
                return false;
            default:
                throw new UsageException(command + ": --" + name + " must be on or off, got '" + v + "'");
        }
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    long longValue(String name, long fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " must be an integer, got '" + v + "'");
        }
    }

    int intValue(String name, int fallback) {
        return values.containsKey(name) ? requiredInt(name) : fallback;
    }

    /** {@code --layout nchw|nhwc}, default nchw. */
    Layout layout() {
        return one("layout", Layout.values(), Layout::cliName, Layout::parse, Layout.NCHW);
    }

    /** {@code --dtype fp32|fp16|bf16}, default fp32. */
    DType dtype() {
        return one("dtype", DType.values(), DType::cliName, DType::parse, DType.FP32);
    }

    /** {@code --activation none|silu}, default none. */
    Activation activation() {
        return one("activation", Activation.values(), Activation::cliName, Activation::parse, Activation.NONE);
    }

    /** {@code --norm groupnorm|layernorm|instancenorm}, default groupnorm. */
    Norm norm() {
        return one("norm", Norm.values(), Norm::cliName, Norm::parse, Norm.GROUP);
    }

    /** {@code --layout}: one value, {@code all}, or a comma list; default nchw. */
    List<Layout> layouts() {
        return many("layout", Layout.values(), Layout::cliName, Layout::parse, Layout.NCHW);
    }

    /** {@code --dtype}: one value, {@code all}, or a comma list; default fp32. */
    List<DType> dtypes() {
        return many("dtype", DType.values(), DType::cliName, DType::parse, DType.FP32);
    }

    /** {@code --activation}: one value, {@code all}, or a comma list; default none. */
    List<Activation> activations() {
        return many("activation", Activation.values(), Activation::cliName, Activation::parse, Activation.NONE);
    }

    private <E> E one(String name, E[] choices, Function<E, String> cliName, Function<String, E> parse,
                      E fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        E e = lookup(v.trim(), parse);
        if (e == null) {
            throw new UsageException(command + ": --" + name + " must be " + alternatives(choices, cliName, false)
                    + ", got '" + v + "'");
        }
        return e;
    }

    private <E> List<E> many(String name, E[] choices, Function<E, String> cliName, Function<String, E> parse,
                             E fallback) {
        String v = values.get(name);
        if (v == null) {
            return List.of(fallback);
        }
        if (v.trim().equalsIgnoreCase("all")) {
            return List.of(choices);
        }
        Set<E> picked = new LinkedHashSet<>();
        for (String part : v.split(",", -1)) {
            E e = lookup(part.trim(), parse);
            if (e == null) {
                throw new UsageException(command + ": --" + name + " must be " + alternatives(choices, cliName, true)
                        + ", got '" + v + "'");
            }
            picked.add(e);
        }
        return List.copyOf(picked);
    }

    /** The enum's own parser (it also knows aliases such as float16 or bfloat16); null when it rejects v. */
    private static <E> E lookup(String v, Function<String, E> parse) {
        try {
            return parse.apply(v);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** "nchw or nhwc", "fp32, fp16 or bf16", or with {@code all}: "nchw, nhwc, all or a comma list of them". */
    private static <E> String alternatives(E[] choices, Function<E, String> cliName, boolean withAll) {
        List<String> names = new ArrayList<>();
        Arrays.stream(choices).map(cliName).forEach(names::add);
        if (withAll) {
            return String.join(", ", names) + ", all or a comma list of them";
        }
        String last = names.remove(names.size() - 1);
        return String.join(", ", names) + " or " + last;
    }
}
