import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;

/**
 * Curves: benchmarks with one parameter (the x axis) and several sides measured along it. Reads JMH
 * JSON result files and the CSV the {@code IdleFootprint} program prints, and writes, into an output
 * directory, one PNG plot per curve and a Markdown file with one table per curve.
 *
 * <pre>java benchmarks/tools/Curves.java --out DIR [--title TEXT] RESULTS.json... [FOOTPRINT.csv]...</pre>
 *
 * <p>A multi-file source program: it uses {@code Report.java} beside it (JDK 22 or later) for the JSON
 * and the score of a result (the median of the iterations for average time, the median sample for
 * sampled time). A curve is one benchmark class and one method variant: {@code Family.ours} and {@code
 * Family.peer} make the curve {@code Family}, {@code Family.ours_failAll} and {@code
 * Family.peer_failAll} the curve {@code Family_failAll}; a class with no or several parameters is left
 * out. The footprint CSV ({@code kind,n,bytes,bytesPerObject}) makes the curve {@code IdleFootprint},
 * where the kinds {@code channel}, {@code bounded16} and {@code actor} are ours and {@code pekko} the
 * peer.
 *
 * <p>Tables: x, the score of each side (with the lowest–highest measurement iteration, or the 90th
 * percentile for sampled time), then ours/peer for every pair of an ours side and a peer side,
 * and, where JMH's {@code gc} profiler ran, the bytes allocated per operation of each side. Plots:
 * logarithmic x axis; the y axis linear from zero, or logarithmic when the values span more than 30x;
 * one line with markers per side, ours in blue; for average time a thin bar from the lowest to the
 * highest measurement iteration; for sampled time the median with markers and the 90th percentile
 * dashed.
 */
public class Curves {

    /** How to label one curve: title, x axis, y axis. */
    record Labels(String title, String x, String y) {}

    static final Map<String, Labels> LABELS = Map.of(
            "ChannelSenders", new Labels("Senders per channel: one receiver, N platform-thread senders",
                    "senders (platform threads)", "ns per item"),
            "PendingRequests", new Labels("Pending requests: register N, then resolve each",
                    "requests pending at once", "ns per request"),
            "PendingRequests_failAll", new Labels("Pending requests: register N, then fail all at once",
                    "requests pending at once", "ns per request"),
            "TaskGroupChildren", new Labels("Children per group: start N trivial children, join them all",
                    "children per group", "ns per child"),
            "IdleDelivery", new Labels("One message to a random one of N idle actors, until handled",
                    "idle actors", "ns per delivery"),
            "IdleFootprint", new Labels("Heap per idle object, N held at once (serial GC)",
                    "objects alive", "bytes per object"));

    /** One curve: side name -> x -> value, and side name -> x -> allocated bytes per operation. */
    static final class Curve {
        final String name;
        String param = "x";
        String unit = "";
        final Map<String, TreeMap<Double, Double>> sides = new LinkedHashMap<>();
        final Map<String, TreeMap<Double, Double>> alloc = new LinkedHashMap<>();
        /** Side -> x -> {lowest, highest} measurement iteration (average time only). */
        final Map<String, TreeMap<Double, double[]>> range = new LinkedHashMap<>();
        /** Side -> x -> the 90th percentile (sampled time only), drawn as a dashed line. */
        final Map<String, TreeMap<Double, Double>> p90 = new LinkedHashMap<>();
        /** Side -> x -> the spread as the table shows it: "lowest–highest" or "p90 n". */
        final Map<String, TreeMap<Double, String>> spread = new LinkedHashMap<>();

        Curve(String name) {
            this.name = name;
        }

        void put(String side, double x, double y) {
            sides.computeIfAbsent(side, s -> new TreeMap<>()).put(x, y);
        }

        List<String> ours() {
            return sides.keySet().stream().filter(Curves::isOurs).toList();
        }

        List<String> peers() {
            return sides.keySet().stream().filter(s -> !isOurs(s)).toList();
        }

        Labels labels() {
            return LABELS.getOrDefault(name, new Labels(name, param, unit));
        }
    }

    static boolean isOurs(String side) {
        return side.equals("ours") || side.startsWith("ours_");
    }

    public static void main(String[] args) throws IOException {
        Path out = null;
        String title = "How cost grows with the work";
        List<Path> inputs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--title" -> title = args[++i];
                default -> inputs.add(Path.of(args[i]));
            }
        }
        if (out == null || inputs.isEmpty()) {
            System.err.println("usage: java Curves.java --out DIR [--title TEXT] RESULTS.json... [FOOTPRINT.csv]...");
            System.exit(2);
        }
        Files.createDirectories(out);
        Map<String, Curve> curves = new TreeMap<>();
        for (Path input : inputs) {
            if (input.toString().endsWith(".csv")) {
                readFootprint(input, curves);
            } else {
                readJmh(input, curves);
            }
        }

        StringBuilder md = new StringBuilder();
        md.append("# ").append(title).append("\n\n");
        md.append("Written by `benchmarks/tools/Curves.java`. Times: the median of the measurement iterations ")
                .append("(average time) or the median sample (sampled time); ours/peer below 1.00 means ours is ")
                .append("cheaper. Alloc: bytes allocated per operation (JMH `-prof gc`, `gc.alloc.rate.norm`).\n");
        for (Curve c : curves.values()) {
            String png = c.name + ".png";
            plot(c, out.resolve(png));
            md.append("\n## ").append(c.name).append("\n\n");
            md.append(c.labels().title()).append(": ").append(c.labels().y()).append(".\n\n");
            md.append("![").append(c.name).append("](").append(png).append(")\n\n");
            md.append(table(c));
        }
        Files.writeString(out.resolve("curves.md"), md.toString());
        System.out.print(md);
    }

    static void readJmh(Path file, Map<String, Curve> curves) throws IOException {
        for (Object o : (List<?>) new Report.Json(Files.readString(file)).parse()) {
            Map<?, ?> m = (Map<?, ?>) o;
            if (!(m.get("params") instanceof Map<?, ?> params) || params.size() != 1) {
                continue;
            }
            Report.Result r = Report.toResult(m);
            var param = params.entrySet().iterator().next();
            double x = Double.parseDouble(String.valueOf(param.getValue()));
            String name = r.variant().isEmpty() ? r.family() : r.family() + "_" + r.variant();
            Curve c = curves.computeIfAbsent(name, Curve::new);
            c.param = String.valueOf(param.getKey());
            c.unit = r.unit();
            c.put(r.side(), x, r.score());
            if (!r.spread().isEmpty()) {
                c.spread.computeIfAbsent(r.side(), k -> new TreeMap<>())
                        .put(x, r.mode().equals("sample") ? "p90 " + r.spread() : r.spread());
            }
            if (r.mode().equals("sample")
                    && ((Map<?, ?>) m.get("primaryMetric")).get("scorePercentiles") instanceof Map<?, ?> pct) {
                c.p90.computeIfAbsent(r.side(), k -> new TreeMap<>()).put(x, Report.number(pct.get("90.0")));
            }
            if (r.mode().equals("avgt") && ((Map<?, ?>) m.get("primaryMetric")).get("rawData") instanceof List<?> forks) {
                double lo = Double.MAX_VALUE;
                double hi = -Double.MAX_VALUE;
                for (Object fork : forks) {
                    for (Object iteration : (List<?>) fork) {
                        lo = Math.min(lo, Report.number(iteration));
                        hi = Math.max(hi, Report.number(iteration));
                    }
                }
                c.range.computeIfAbsent(r.side(), k -> new TreeMap<>()).put(x, new double[] {lo, hi});
            }
            if (m.get("secondaryMetrics") instanceof Map<?, ?> secondary
                    && (secondary.get("gc.alloc.rate.norm") instanceof Map<?, ?> n ? n : secondary.get("·gc.alloc.rate.norm")) instanceof Map<?, ?> norm) {
                c.alloc.computeIfAbsent(r.side(), s -> new TreeMap<>()).put(x, Report.number(norm.get("score")));
            }
        }
    }

    static void readFootprint(Path file, Map<String, Curve> curves) throws IOException {
        Curve c = curves.computeIfAbsent("IdleFootprint", Curve::new);
        c.param = "n";
        c.unit = "B/object";
        for (String line : Files.readAllLines(file)) {
            String[] f = line.strip().split(",");
            if (f.length != 4 || !f[1].matches("\\d+")) {
                continue; // a header, or a line the program did not write
            }
            String side = f[0].equals("pekko") ? "pekko" : "ours_" + f[0];
            c.put(side, Double.parseDouble(f[1]), Double.parseDouble(f[3]));
        }
    }

    // ---------------------------------------------------------------- the table

    static String table(Curve c) {
        List<String> header = new ArrayList<>();
        header.add(c.param);
        List<String> sides = new ArrayList<>(c.ours());
        sides.addAll(c.peers());
        for (String s : sides) {
            header.add(s + " (" + c.labels().y() + ")");
        }
        List<String[]> pairs = new ArrayList<>();
        for (String o : c.ours()) {
            for (String p : c.peers()) {
                pairs.add(new String[] {o, p});
                header.add(o + "/" + p);
            }
        }
        List<String> allocSides = sides.stream().filter(c.alloc::containsKey).toList();
        for (String s : allocSides) {
            header.add(s + " alloc (B/op)");
        }
        TreeMap<Double, Boolean> xs = new TreeMap<>();
        c.sides.values().forEach(m -> m.keySet().forEach(x -> xs.put(x, true)));
        StringBuilder b = new StringBuilder();
        b.append("| ").append(String.join(" | ", header)).append(" |\n|");
        for (int i = 0; i < header.size(); i++) {
            b.append(i == 0 ? "---:|" : "---:|");
        }
        b.append('\n');
        for (double x : xs.keySet()) {
            List<String> row = new ArrayList<>();
            row.add(String.format(Locale.ROOT, "%,.0f", x));
            for (String s : sides) {
                String cell = cell(c.sides.get(s).get(x));
                String sp = c.spread.getOrDefault(s, new TreeMap<>()).get(x);
                row.add(sp == null || cell.isEmpty() ? cell : cell + " <sub>(" + sp + ")</sub>");
            }
            for (String[] pair : pairs) {
                Double o = c.sides.get(pair[0]).get(x);
                Double p = c.sides.get(pair[1]).get(x);
                row.add(o == null || p == null || p == 0 ? "" : String.format(Locale.ROOT, "%.2f", o / p));
            }
            for (String s : allocSides) {
                row.add(cell(c.alloc.get(s).get(x)));
            }
            b.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
        return b.toString();
    }

    static String cell(Double v) {
        if (v == null || v.isNaN()) {
            return "";
        }
        return Report.number(v.doubleValue());
    }

    // ---------------------------------------------------------------- the plot

    static final int WIDTH = 960;
    static final int HEIGHT = 600;
    static final int LEFT = 100;
    static final int RIGHT = 40;
    static final int TOP = 76;
    static final int BOTTOM = 80;
    static final Color OURS = new Color(0x1f, 0x5f, 0xbf);
    static final Color[] OURS_MORE = {new Color(0x1f, 0x5f, 0xbf), new Color(0x3f, 0xa0, 0xe0), new Color(0x10, 0x30, 0x80)};
    static final Color[] PEERS = {new Color(0xe0, 0x70, 0x10), new Color(0x2a, 0x9d, 0x3a), new Color(0xc0, 0x20, 0x30),
            new Color(0x80, 0x40, 0xa0)};

    static void plot(Curve c, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);

        double xMin = Double.MAX_VALUE;
        double xMax = -Double.MAX_VALUE;
        double yMin = Double.MAX_VALUE;
        double yMax = -Double.MAX_VALUE;
        TreeMap<Double, Boolean> xs = new TreeMap<>();
        for (TreeMap<Double, Double> points : c.sides.values()) {
            for (var p : points.entrySet()) {
                xs.put(p.getKey(), true);
                xMin = Math.min(xMin, p.getKey());
                xMax = Math.max(xMax, p.getKey());
                if (p.getValue() > 0 && !p.getValue().isNaN()) {
                    yMin = Math.min(yMin, p.getValue());
                    yMax = Math.max(yMax, p.getValue());
                }
            }
        }
        for (TreeMap<Double, Double> high : c.p90.values()) {
            for (double v : high.values()) {
                yMax = Math.max(yMax, v);
            }
        }
        for (TreeMap<Double, double[]> ranges : c.range.values()) {
            for (double[] lh : ranges.values()) {
                if (lh[0] > 0) {
                    yMin = Math.min(yMin, lh[0]);
                }
                yMax = Math.max(yMax, lh[1]);
            }
        }
        boolean logY = yMax / yMin > 30;
        double lx0 = Math.log10(xMin);
        double lx1 = Math.log10(xMax);
        if (lx1 - lx0 < 1e-9) {
            lx0 -= 0.5;
            lx1 += 0.5;
        }
        double padX = (lx1 - lx0) * 0.04;
        lx0 -= padX;
        lx1 += padX;
        double y0;
        double y1;
        List<Double> yTicks = new ArrayList<>();
        if (logY) {
            y0 = Math.floor(Math.log10(yMin));
            y1 = Math.ceil(Math.log10(yMax));
            for (double e = y0; e <= y1; e++) {
                yTicks.add(e);
            }
        } else {
            y0 = 0;
            double step = niceStep(yMax / 5);
            y1 = Math.ceil(yMax * 1.08 / step) * step;
            for (double v = 0; v <= y1 + step / 2; v += step) {
                yTicks.add(v);
            }
        }
        int pw = WIDTH - LEFT - RIGHT;
        int ph = HEIGHT - TOP - BOTTOM;
        final double fx0 = lx0;
        final double fx1 = lx1;
        final double fy0 = y0;
        final double fy1 = y1;
        java.util.function.DoubleUnaryOperator px = x -> LEFT + (Math.log10(x) - fx0) / (fx1 - fx0) * pw;
        java.util.function.DoubleUnaryOperator py = y -> TOP + ph - ((logY ? Math.log10(y) : y) - fy0) / (fy1 - fy0) * ph;

        Font small = new Font(Font.SANS_SERIF, Font.PLAIN, 14);
        Font label = new Font(Font.SANS_SERIF, Font.PLAIN, 16);
        Font heading = new Font(Font.SANS_SERIF, Font.BOLD, 18);

        // grid and ticks
        g.setFont(small);
        FontMetrics fm = g.getFontMetrics();
        for (double tick : yTicks) {
            double v = logY ? Math.pow(10, tick) : tick;
            int y = (int) Math.round(py.applyAsDouble(v));
            g.setColor(new Color(0xe4, 0xe4, 0xe4));
            g.drawLine(LEFT, y, LEFT + pw, y);
            g.setColor(Color.DARK_GRAY);
            String t = axisNumber(v);
            g.drawString(t, LEFT - 8 - fm.stringWidth(t), y + fm.getAscent() / 2 - 1);
        }
        if (logY) { // minor grid lines at 2..9 x each decade
            g.setColor(new Color(0xf3, 0xf3, 0xf3));
            for (double e = y0; e < y1; e++) {
                for (int k = 2; k < 10; k++) {
                    int y = (int) Math.round(py.applyAsDouble(k * Math.pow(10, e)));
                    g.drawLine(LEFT, y, LEFT + pw, y);
                }
            }
        }
        for (double x : xs.keySet()) {
            int xp = (int) Math.round(px.applyAsDouble(x));
            g.setColor(new Color(0xe4, 0xe4, 0xe4));
            g.drawLine(xp, TOP, xp, TOP + ph);
            g.setColor(Color.DARK_GRAY);
            String t = axisNumber(x);
            g.drawString(t, xp - fm.stringWidth(t) / 2, TOP + ph + 8 + fm.getAscent());
        }
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1.2f));
        g.drawRect(LEFT, TOP, pw, ph);

        // titles
        Labels labels = c.labels();
        g.setFont(heading);
        fm = g.getFontMetrics();
        g.drawString(labels.title(), (WIDTH - fm.stringWidth(labels.title())) / 2, 32);
        g.setFont(label);
        fm = g.getFontMetrics();
        String xl = labels.x() + " (log scale)";
        g.drawString(xl, LEFT + (pw - fm.stringWidth(xl)) / 2, HEIGHT - 24);
        String yl = labels.y() + (logY ? " (log scale)" : "");
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2);
        g.drawString(yl, -(TOP + (ph + fm.stringWidth(yl)) / 2), 26);
        g.setTransform(saved);

        // the sides
        List<String> sides = new ArrayList<>(c.ours());
        sides.addAll(c.peers());
        int oursIndex = 0;
        int peerIndex = 0;
        List<Color> colors = new ArrayList<>();
        for (String s : sides) {
            colors.add(isOurs(s) ? (c.ours().size() == 1 ? OURS : OURS_MORE[oursIndex++ % OURS_MORE.length])
                    : PEERS[peerIndex++ % PEERS.length]);
        }
        for (int i = 0; i < sides.size(); i++) {
            TreeMap<Double, Double> points = c.sides.get(sides.get(i));
            g.setColor(colors.get(i));
            g.setStroke(isOurs(sides.get(i)) ? new BasicStroke(3f) : new BasicStroke(2.2f));
            Path2D line = new Path2D.Double();
            boolean first = true;
            for (var p : points.entrySet()) {
                if (!(p.getValue() > 0)) {
                    continue;
                }
                double x = px.applyAsDouble(p.getKey());
                double y = py.applyAsDouble(p.getValue());
                if (first) {
                    line.moveTo(x, y);
                    first = false;
                } else {
                    line.lineTo(x, y);
                }
            }
            g.draw(line);
            TreeMap<Double, Double> high = c.p90.get(sides.get(i));
            if (high != null) {
                g.setStroke(new BasicStroke(1.6f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {7f, 5f}, 0f));
                Path2D dashed = new Path2D.Double();
                boolean start = true;
                for (var p : high.entrySet()) {
                    double x = px.applyAsDouble(p.getKey());
                    double y = py.applyAsDouble(p.getValue());
                    if (start) {
                        dashed.moveTo(x, y);
                        start = false;
                    } else {
                        dashed.lineTo(x, y);
                    }
                }
                g.draw(dashed);
            }
            // the lowest and highest measurement iteration, as a thin bar with caps
            TreeMap<Double, double[]> ranges = c.range.getOrDefault(sides.get(i), new TreeMap<>());
            g.setStroke(new BasicStroke(1.2f));
            double shift = (i - (sides.size() - 1) / 2.0) * 5; // side by side, so that bars at one x do not overlap
            for (var e : ranges.entrySet()) {
                if (!(e.getValue()[0] > 0)) {
                    continue;
                }
                double x = px.applyAsDouble(e.getKey()) + shift;
                double lo = py.applyAsDouble(e.getValue()[0]);
                double hi = py.applyAsDouble(e.getValue()[1]);
                g.draw(new java.awt.geom.Line2D.Double(x, lo, x, hi));
                g.draw(new java.awt.geom.Line2D.Double(x - 3, lo, x + 3, lo));
                g.draw(new java.awt.geom.Line2D.Double(x - 3, hi, x + 3, hi));
            }
            for (var p : points.entrySet()) {
                if (p.getValue() > 0) {
                    marker(g, i, px.applyAsDouble(p.getKey()), py.applyAsDouble(p.getValue()));
                }
            }
        }

        // legend: one row under the title, outside the plot so that it hides no point
        g.setFont(small);
        fm = g.getFontMetrics();
        int total = 0;
        for (String s : sides) {
            total += 40 + fm.stringWidth(s) + 24;
        }
        if (!c.p90.isEmpty()) {
            total += 40 + fm.stringWidth("90th percentile");
        }
        int lx = Math.max(LEFT, (WIDTH - total) / 2);
        int yy = 54;
        for (int i = 0; i < sides.size(); i++) {
            g.setColor(colors.get(i));
            g.setStroke(new BasicStroke(isOurs(sides.get(i)) ? 3f : 2.2f));
            g.drawLine(lx, yy, lx + 30, yy);
            marker(g, i, lx + 15, yy);
            g.setColor(Color.BLACK);
            g.drawString(sides.get(i), lx + 38, yy + fm.getAscent() / 2 - 1);
            lx += 40 + fm.stringWidth(sides.get(i)) + 24;
        }
        if (!c.p90.isEmpty()) {
            g.setColor(Color.DARK_GRAY);
            g.setStroke(new BasicStroke(1.6f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {7f, 5f}, 0f));
            g.drawLine(lx, yy, lx + 30, yy);
            g.drawString("90th percentile", lx + 38, yy + fm.getAscent() / 2 - 1);
        }
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    /** A marker of shape {@code kind}: circle, square, triangle, diamond, ... */
    static void marker(Graphics2D g, int kind, double x, double y) {
        double r = 5;
        g.setStroke(new BasicStroke(1.5f));
        switch (kind % 4) {
            case 0 -> g.fill(new java.awt.geom.Ellipse2D.Double(x - r, y - r, 2 * r, 2 * r));
            case 1 -> g.fill(new java.awt.geom.Rectangle2D.Double(x - r, y - r, 2 * r, 2 * r));
            case 2 -> {
                Path2D t = new Path2D.Double();
                t.moveTo(x, y - r - 1);
                t.lineTo(x + r + 1, y + r);
                t.lineTo(x - r - 1, y + r);
                t.closePath();
                g.fill(t);
            }
            default -> {
                Path2D d = new Path2D.Double();
                d.moveTo(x, y - r - 1);
                d.lineTo(x + r + 1, y);
                d.lineTo(x, y + r + 1);
                d.lineTo(x - r - 1, y);
                d.closePath();
                g.fill(d);
            }
        }
    }

    static double niceStep(double raw) {
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / p;
        return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
    }

    static String axisNumber(double v) {
        if (v >= 1_000_000 && v % 1_000_000 == 0) {
            return String.format(Locale.ROOT, "%,.0fM", v / 1_000_000);
        }
        if (v >= 10_000 && v % 1000 == 0) {
            return String.format(Locale.ROOT, "%,.0fk", v / 1000);
        }
        if (v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        return String.format(Locale.ROOT, v < 1 ? "%.2f" : "%.1f", v);
    }
}
