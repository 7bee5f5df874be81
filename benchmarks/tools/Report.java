import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a JMH JSON result file and prints, per benchmark family and parameter set, our score, every
 * peer's score, and the ratio ours/peer from the same run. A single-file program: run it with
 * {@code java Report.java results.json}.
 *
 * <p>Names: {@code io.microio.bench.<Family>[Preview].<side>[_<variant>]}. The side {@code ours}
 * (with its variant) is compared with every other side that has the same variant. {@code Floors}
 * has no ours side and is printed first, as the machine's fingerprint. Scores: for average time the
 * median of the measurement iterations of every fork (with their range beside it), for sampled time
 * the median of all samples (with the 90th percentile beside it); for time the ratio below 1 means
 * ours is faster.
 */
public class Report {

    record Result(String family, String side, String variant, String params, String mode,
                  double score, String spread, String unit) {}

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: java Report.java results.json [benchmark-list.txt]");
            System.exit(2);
        }
        Object json = new Json(Files.readString(Path.of(args[0]))).parse();
        // The jar's benchmark list (java -jar benchmarks.jar -l), to tell "not run" from "not written yet".
        java.util.Set<String> known = new java.util.HashSet<>();
        if (args.length == 2) {
            for (String line : Files.readAllLines(Path.of(args[1]))) {
                known.add(line.strip());
            }
        }
        List<Result> results = new ArrayList<>();
        for (Object o : (List<?>) json) {
            results.add(toResult((Map<?, ?>) o));
        }

        // family -> params -> results, in order of appearance
        Map<String, Map<String, List<Result>>> byFamily = new TreeMap<>((a, b) -> {
            if (a.equals(b)) {
                return 0;
            }
            return a.equals("Floors") ? -1 : b.equals("Floors") ? 1 : a.compareTo(b);
        });
        for (Result r : results) {
            byFamily.computeIfAbsent(r.family(), f -> new TreeMap<>())
                    .computeIfAbsent(r.params(), p -> new ArrayList<>())
                    .add(r);
        }

        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"Benchmark", "Params", "Side", "Stat", "Score", "range / p90", "Unit", "ours/side"});
        for (var family : byFamily.entrySet()) {
            boolean floors = family.getKey().equals("Floors");
            for (var group : family.getValue().entrySet()) {
                List<Result> sides = new ArrayList<>(group.getValue());
                sides.sort((a, b) -> Boolean.compare(!isOurs(a), !isOurs(b)));
                Map<String, Result> oursByVariant = new LinkedHashMap<>();
                for (Result r : sides) {
                    if (isOurs(r)) {
                        oursByVariant.put(r.variant(), r);
                    }
                }
                String name = family.getKey() + (floors ? " (machine)" : "");
                if (!floors) {
                    for (Result r : sides) {
                        if (!isOurs(r) && !oursByVariant.containsKey(r.variant())) {
                            Result missing = new Result(r.family(), "ours", r.variant(), "", "", 0, "", "");
                            oursByVariant.put(r.variant(), missing);
                            String why = inList(known, missing) ? "not run" : "not yet measured";
                            rows.add(new String[] {name, group.getKey(), sideName(missing), "", why, "", "", ""});
                            name = "";
                        }
                    }
                }
                for (Result r : sides) {
                    String ratio = "";
                    Result ours = oursByVariant.get(r.variant());
                    if (!isOurs(r) && ours != null && !ours.mode().isEmpty() && ours.unit().equals(r.unit())
                            && r.score() > 0) {
                        ratio = String.format(Locale.ROOT, "%.2f", ours.score() / r.score());
                    }
                    rows.add(new String[] {name, group.getKey(), sideName(r), stat(r.mode()), number(r.score()),
                            r.spread(), r.unit(), ratio});
                    name = "";
                }
            }
        }
        printTable(rows);
        System.out.println();
        System.out.println("Stat: med = median of the iterations' average times (lowest–highest iteration beside it), "
                + "p50 = median of sampled times (p90 beside it). For times, ours/side below 1.00 means ours is faster.");
    }

    static boolean inList(java.util.Set<String> known, Result ours) {
        String suffix = "." + sideName(ours);
        for (String name : known) {
            String[] parts = name.split("\\.");
            if (parts.length >= 2 && name.endsWith(suffix)) {
                String cls = parts[parts.length - 2];
                if (cls.equals(ours.family()) || cls.equals(ours.family() + "Preview")) {
                    return true;
                }
            }
        }
        return false;
    }

    static boolean isOurs(Result r) {
        return r.side().equals("ours");
    }

    static String sideName(Result r) {
        return r.variant().isEmpty() ? r.side() : r.side() + "_" + r.variant();
    }

    static Result toResult(Map<?, ?> m) {
        String benchmark = (String) m.get("benchmark");
        String[] parts = benchmark.split("\\.");
        String cls = parts[parts.length - 2];
        String method = parts[parts.length - 1];
        String family = cls.endsWith("Preview") ? cls.substring(0, cls.length() - "Preview".length()) : cls;
        int underscore = method.indexOf('_');
        String side = underscore < 0 ? method : method.substring(0, underscore);
        String variant = underscore < 0 ? "" : method.substring(underscore + 1);

        StringBuilder params = new StringBuilder();
        Object p = m.get("params");
        if (p instanceof Map<?, ?> pm) {
            new TreeMap<>(pm).forEach((k, v) -> params.append(params.isEmpty() ? "" : " ").append(k).append('=').append(v));
        }

        String mode = (String) m.get("mode");
        Map<?, ?> primary = (Map<?, ?>) m.get("primaryMetric");
        String unit = (String) primary.get("scoreUnit");
        double score;
        String spread;
        if (mode.equals("sample")) {
            Map<?, ?> pct = (Map<?, ?>) primary.get("scorePercentiles");
            score = number(pct.get("50.0"));
            spread = number(number(pct.get("90.0")));
        } else if (mode.equals("avgt") && primary.get("rawData") instanceof List<?> forks && !forks.isEmpty()) {
            // The median of the iterations, with their range: one iteration disturbed by the machine's
            // other work moves a mean (and JMH's interval) a long way, a median hardly at all.
            List<Double> iterations = new ArrayList<>();
            for (Object fork : forks) {
                for (Object iteration : (List<?>) fork) {
                    iterations.add(number(iteration));
                }
            }
            Collections.sort(iterations);
            int n = iterations.size();
            score = n % 2 == 1 ? iterations.get(n / 2) : (iterations.get(n / 2 - 1) + iterations.get(n / 2)) / 2;
            spread = number(iterations.get(0).doubleValue()) + "–" + number(iterations.get(n - 1).doubleValue());
        } else {
            score = number(primary.get("score"));
            double error = number(primary.get("scoreError"));
            spread = Double.isNaN(error) ? "" : "± " + number(error);
        }
        return new Result(family, side, variant, params.toString(), mode, score, spread, unit);
    }

    static String stat(String mode) {
        return switch (mode) {
            case "avgt" -> "med";
            case "sample" -> "p50";
            case "thrpt" -> "thrpt";
            case "ss" -> "single";
            default -> mode;
        };
    }

    static double number(Object o) {
        if (o instanceof Number n) {
            return n.doubleValue();
        }
        if (o instanceof String s) {
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    static String number(double d) {
        if (Double.isNaN(d)) {
            return "";
        }
        if (Math.abs(d) >= 100) {
            return String.format(Locale.ROOT, "%,.0f", d);
        }
        if (Math.abs(d) >= 10) {
            return String.format(Locale.ROOT, "%.1f", d);
        }
        return String.format(Locale.ROOT, "%.2f", d);
    }

    /** A Markdown table, padded so it also reads as plain text. */
    static void printTable(List<String[]> rows) {
        int[] width = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        boolean[] right = {false, false, false, false, true, true, false, true};
        for (int r = 0; r < rows.size(); r++) {
            StringBuilder line = new StringBuilder("|");
            for (int i = 0; i < width.length; i++) {
                String cell = rows.get(r)[i];
                String pad = " ".repeat(width[i] - cell.length());
                line.append(' ').append(right[i] ? pad + cell : cell + pad).append(" |");
            }
            System.out.println(line);
            if (r == 0) {
                StringBuilder rule = new StringBuilder("|");
                for (int i = 0; i < width.length; i++) {
                    rule.append(right[i] ? " " + "-".repeat(width[i] - 1) + ": |" : " " + "-".repeat(width[i]) + " |");
                }
                System.out.println(rule);
            }
        }
    }

    /** Just enough JSON for JMH's result files: objects, arrays, strings, numbers, literals. */
    static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object parse() {
            Object v = value();
            space();
            if (i != s.length()) {
                throw error("trailing text");
            }
            return v;
        }

        private Object value() {
            space();
            if (i >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(i);
            return switch (c) {
                case '{' -> object();
                case '[' -> array();
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> number();
            };
        }

        private Map<String, Object> object() {
            Map<String, Object> m = new LinkedHashMap<>();
            i++;
            space();
            if (s.charAt(i) == '}') {
                i++;
                return m;
            }
            while (true) {
                space();
                String key = string();
                space();
                expect(':');
                m.put(key, value());
                space();
                if (s.charAt(i) == ',') {
                    i++;
                } else {
                    expect('}');
                    return m;
                }
            }
        }

        private List<Object> array() {
            List<Object> l = new ArrayList<>();
            i++;
            space();
            if (s.charAt(i) == ']') {
                i++;
                return l;
            }
            while (true) {
                l.add(value());
                space();
                if (s.charAt(i) == ',') {
                    i++;
                } else {
                    expect(']');
                    return l;
                }
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            }
        }

        private Object number() {
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            if (start == i) {
                throw error("unexpected character");
            }
            return Double.parseDouble(s.substring(start, i));
        }

        private Object literal(String word, Object value) {
            if (!s.startsWith(word, i)) {
                throw error("unexpected word");
            }
            i += word.length();
            return value;
        }

        private void expect(char c) {
            if (i >= s.length() || s.charAt(i) != c) {
                throw error("expected '" + c + "'");
            }
            i++;
        }

        private void space() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at offset " + i + " of the result file");
        }
    }
}
