import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the sides of benchmark families in short alternating JMH forks and reports ours/peer as the
 * median of ratios taken within a round, so that a change in the machine's other load moves both
 * sides of a ratio instead of one. A multi-file source program (JDK 22 or later): it uses
 * {@code Report.java} from its own directory for the names and the per-fork score.
 *
 * <pre>
 *   java tools/Interleave.java [options] FAMILY[:side,side...] ...
 *   java tools/Interleave.java --compare RUN_A/summary.json RUN_B/summary.json
 * </pre>
 *
 * <p>Method. A round runs every (family, parameter set) group once, groups in a shuffled order, and
 * within a group every side (ours and each chosen peer) once, in a shuffled order; each side is one
 * {@code java -jar benchmarks.jar <exact name> -p <its parameters> -f 1 -wi W -w T -i I -r T -rf json}.
 * The order comes from one {@link Random} whose seed is printed (and taken with {@code --seed}). A
 * fork's score is what {@code Report} prints for it: the median of its measurement iterations
 * (average-time benchmarks) or the median of its samples (sampled-time benchmarks). The pair ratio of
 * a round is ours' fork over the peer's fork from that round; the result is the median of the pair
 * ratios, with a 95% percentile-bootstrap interval (10,000 resamples of the pairs, seeded with the
 * run's seed). Beside each fork the 1-minute load average ({@code /proc/loadavg}) is read when it
 * ends; a pair's load is the mean of its two forks' readings.
 *
 * <p>{@code --noise[=K]} starts K CPU-bound shell loops (default 1) for the whole run. Each loop also
 * checks that this program is still alive and exits when it is not; a shutdown hook (normal end,
 * error, Ctrl-C) kills them and any fork still running.
 *
 * <p>JMH runs one benchmark run per machine at a time ({@code /tmp/jmh.lock}); a fork that finds the lock
 * taken is started again every 2 s until it gets it (for at most 30 minutes), so a pair is never
 * measured beside another JMH run.
 */
public class Interleave {

    static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);
    static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
    static final int RESAMPLES = 10_000;
    /** How long a fork waits for another JMH run on the machine (JMH's lock) before it counts as failed. */
    static final long LOCK_PATIENCE_SECONDS = 1_800;

    /**
     * The peers the goals in benchmarks/README.md ("The goals, one by one") are stated against, for
     * the family argument {@code goals}. The other peers stay runnable by naming the family alone.
     */
    static final Map<String, List<String>> GOALS = new LinkedHashMap<>();

    static {
        GOALS.put("ChannelBurstCost", List.of("jctools", "linkedBlockingQueue"));
        GOALS.put("ChannelThroughput", List.of("jctools", "arrayBlockingQueue"));
        GOALS.put("ChannelPingPong", List.of("parkUnpark", "synchronousQueue"));
        GOALS.put("ChannelCloseWake", List.of("rawUnpark"));
        GOALS.put("ActorTell", List.of("pekko"));
        GOALS.put("ActorPingPong", List.of("pekko"));
        GOALS.put("ReplyRoundTrip", List.of("mapOfFutures"));
        GOALS.put("RegistryFailAll", List.of("mapOfFutures"));
        GOALS.put("CancelLatency", List.of("interrupt"));
        GOALS.put("ScopeEnterExit", List.of("tryFinally", "scheduledExecutor_deadline"));
        GOALS.put("TaskGroupForkJoin", List.of("virtualThreads", "structuredTaskScope"));
        GOALS.put("TaskGroupFailFast", List.of("structuredTaskScope"));
    }

    /** One benchmark method with one parameter set: what a single fork runs. */
    record Bench(String name, String family, String side, String variant, Map<String, String> params) {
        String sideName() {
            return variant.isEmpty() ? side : side + "_" + variant;
        }

        String paramText() {
            StringBuilder b = new StringBuilder();
            params.forEach((k, v) -> b.append(b.isEmpty() ? "" : " ").append(k).append('=').append(v));
            return b.toString();
        }

        String groupKey() {
            return family + (params.isEmpty() ? "" : " " + paramText());
        }
    }

    /** One finished fork. */
    record Fork(int round, Bench bench, String stat, double score, String unit, double load, double seconds,
                String file, String error) {}

    // ---------------------------------------------------------------- options

    Path jar;
    String javaBin = ProcessHandle.current().info().command().orElse("java");
    Path out;
    int rounds = 8;
    int warmups = 1;
    int iterations = 3;
    String time = "1s";
    long seed = System.currentTimeMillis() % 1_000_000;
    int noise = 0;
    String noiseCpus;
    String benchCpus;
    String exclude;
    boolean dryRun;
    final List<String> families = new ArrayList<>();
    final List<String> jmhExtra = new ArrayList<>();
    final Map<String, Set<String>> paramValues = new LinkedHashMap<>();

    final List<Process> noiseLoops = new ArrayList<>();
    volatile Process running;

    public static void main(String[] args) throws Exception {
        if (args.length >= 1 && args[0].equals("--compare")) {
            if (args.length != 3) {
                usage("--compare takes two summary.json files");
            }
            compare(Path.of(args[1]), Path.of(args[2]));
            return;
        }
        Interleave run = new Interleave();
        run.parse(args);
        System.exit(run.run());
    }

    static void usage(String why) {
        boolean help = why.equals("help");
        if (!help) {
            System.err.println("Interleave: " + why);
        }
        (help ? System.out : System.err).println("""
                usage: java Interleave.java [options] FAMILY[:side,side...] ... [-- JMH options for every fork]
                       java Interleave.java --compare RUN_A/summary.json RUN_B/summary.json
                  FAMILY        a benchmark class (its ...Preview class is included), 'goals' for every family
                                with the peers its goal names, 'all' for every family and peer
                  :side,...     only these peers (method names, with the variant: scheduledExecutor_deadline)
                  --rounds N    rounds, each one fork of every side (default 8)
                  --warmup N --iterations N --time T
                                per fork: N warm-up and N measurement iterations of T (default 1, 3, 1s)
                  --param K=V[,V]  parameter K takes these values (in place of the benchmark's own
                                list, so also a value outside it: --param workers=1)
                  --seed N      seed of the shuffles and the bootstrap (default: printed)
                  --noise[=K]   K CPU-bound loops for the whole run (default K=1)
                  --noise-cpus LIST  run the loops under taskset -c LIST
                  --bench-cpus LIST  run the forks under taskset -c LIST
                  --exclude REGEX    leave out benchmarks whose name matches
                  --jar PATH --java PATH --out DIR --dry-run""");
        System.exit(help ? 0 : 2);
    }

    void parse(String[] args) {
        // Default: the jar of the module this is run from (the repository root or benchmarks/).
        jar = Files.isDirectory(Path.of("benchmarks", "tools")) ? Path.of("benchmarks", "target", "benchmarks.jar")
                : Path.of("target", "benchmarks.jar");
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            switch (a) {
                case "--" -> {
                    jmhExtra.addAll(Arrays.asList(args).subList(i + 1, args.length));
                    i = args.length;
                }
                case "--noise" -> noise = value == null ? 1 : positive(a, value);
                case "--dry-run" -> dryRun = true;
                case "-h", "--help" -> usage("help");
                default -> {
                    if (!a.startsWith("-")) {
                        families.add(a);
                        continue;
                    }
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            usage(a + " needs a value");
                        }
                        value = args[++i];
                    }
                    switch (a) {
                        case "--rounds" -> rounds = positive(a, value);
                        case "--warmup" -> warmups = Integer.parseInt(value);
                        case "--iterations" -> iterations = positive(a, value);
                        case "--time" -> time = value;
                        case "--seed" -> seed = Long.parseLong(value);
                        case "--noise-cpus" -> noiseCpus = value;
                        case "--bench-cpus" -> benchCpus = value;
                        case "--exclude" -> exclude = value;
                        case "--jar" -> jar = Path.of(value);
                        case "--java" -> javaBin = value;
                        case "--out" -> out = Path.of(value);
                        case "--param" -> {
                            int e = value.indexOf('=');
                            if (e <= 0) {
                                usage("--param must be K=V[,V] but was " + value);
                            }
                            paramValues.put(value.substring(0, e), new LinkedHashSet<>(Arrays.asList(value.substring(e + 1).split(","))));
                        }
                        default -> usage("unknown option " + a);
                    }
                }
            }
        }
        if (families.isEmpty()) {
            usage("name at least one family, or 'goals', or 'all'");
        }
        if (out == null) {
            // benchmarks/results, also when --jar names a jar elsewhere (a copy kept for a before/after run)
            Path results = Files.isDirectory(Path.of("benchmarks", "tools")) ? Path.of("benchmarks", "results")
                    : Path.of("results");
            out = results.toAbsolutePath().resolve(STAMP.format(Instant.now()) + "-interleaved");
        }
    }

    static int positive(String option, String value) {
        int n = Integer.parseInt(value);
        if (n <= 0) {
            usage(option + " must be positive but was " + value);
        }
        return n;
    }

    // ---------------------------------------------------------------- the run

    int run() throws Exception {
        if (!Files.isRegularFile(jar)) {
            usage("no benchmark jar at " + jar + " (build it: benchmarks/run does)");
        }
        List<List<Bench>> groups = groups(list());
        if (groups.isEmpty()) {
            usage("no benchmark with an ours side and a peer matches " + families);
        }
        int forksPerRound = groups.stream().mapToInt(List::size).sum();
        double perFork = (warmups + iterations) * seconds(time) + 2.5;
        System.out.printf(Locale.ROOT, "Interleaved: %d groups, %d forks per round, %d rounds; per fork -wi %d -i %d of %s;"
                        + " estimate %.0f min%n", groups.size(), forksPerRound, rounds, warmups, iterations, time,
                forksPerRound * rounds * perFork / 60);
        System.out.println("Seed: " + seed + " (repeat the order with --seed " + seed + ")");
        System.out.println("Noise: " + (noise == 0 ? "none" : noise + " CPU-bound loop(s)" + (noiseCpus == null ? "" : " on CPUs " + noiseCpus))
                + (benchCpus == null ? "" : "; forks on CPUs " + benchCpus));
        System.out.println("Machine: " + nproc() + " cores; load average at start: " + loadText());
        System.out.println("Results: " + out);
        if (dryRun) {
            for (List<Bench> g : groups) {
                for (Bench b : g) {
                    System.out.println("  " + String.join(" ", command(b, Path.of("fork.json"))));
                }
            }
            return 0;
        }
        Files.createDirectories(out.resolve("forks"));
        Runtime.getRuntime().addShutdownHook(new Thread(this::cleanUp, "interleave-cleanup"));
        startNoise();

        Instant started = Instant.now();
        String loadAtStart = loadText();
        Random order = new Random(seed);
        List<Fork> forks = new ArrayList<>();
        int failures = 0;
        for (int round = 1; round <= rounds; round++) {
            List<List<Bench>> roundGroups = new ArrayList<>(groups);
            Collections.shuffle(roundGroups, order);
            int n = 0;
            for (List<Bench> group : roundGroups) {
                List<Bench> sides = new ArrayList<>(group);
                Collections.shuffle(sides, order);
                for (Bench b : sides) {
                    n++;
                    Fork f = fork(round, b);
                    forks.add(f);
                    if (f.error() != null) {
                        failures++;
                    }
                    System.out.printf(Locale.ROOT, "  round %d/%d %2d/%d  %-40s %-28s %s  load %.2f%n", round, rounds, n,
                            forksPerRound, b.groupKey(), b.sideName(),
                            f.error() != null ? "FAILED: " + f.error() : f.stat() + " " + Report.number(f.score()) + " " + f.unit(),
                            f.load());
                }
            }
        }
        stopNoise();
        Instant ended = Instant.now();
        String loadAtEnd = loadText();

        List<Row> rows = summarize(groups, forks);
        String header = String.format(Locale.ROOT,
                "Interleaved run %s to %s UTC (%d min); %d rounds; per fork -f 1 -wi %d -i %d of %s; seed %d; noise: %s;"
                        + " load average at start %s, at end %s",
                CLOCK.format(started), CLOCK.format(ended), Duration.between(started, ended).toMinutes(), rounds, warmups,
                iterations, time, seed, noise == 0 ? "none" : noise + " loop(s)" + (noiseCpus == null ? "" : " on CPUs " + noiseCpus),
                loadAtStart, loadAtEnd);
        String table = markdown(rows);
        System.out.println();
        System.out.println(header);
        System.out.println();
        System.out.print(table);
        Files.writeString(out.resolve("summary.md"), "# " + header + "\n\n" + table);
        Files.writeString(out.resolve("summary.json"), json(header, rows, forks));
        System.out.println();
        System.out.println("Written: " + out.resolve("summary.md") + ", " + out.resolve("summary.json"));
        if (failures > 0) {
            System.err.println("WARNING: " + failures + " fork(s) failed; their logs are in " + out.resolve("forks"));
            return 1;
        }
        return 0;
    }

    static double seconds(String t) {
        Matcher m = Pattern.compile("(\\d+)(ms|s|min)?").matcher(t);
        if (!m.matches()) {
            return 1;
        }
        double v = Double.parseDouble(m.group(1));
        return m.group(2) == null || m.group(2).equals("s") ? v : m.group(2).equals("ms") ? v / 1000 : v * 60;
    }

    /** Every benchmark with every parameter set, from {@code java -jar benchmarks.jar -lp}. */
    List<Bench> list() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(javaBin, "-jar", jar.toString(), "-lp").redirectErrorStream(true).start();
        List<String> lines = new String(p.getInputStream().readAllBytes()).lines().toList();
        p.waitFor();
        List<Bench> all = new ArrayList<>();
        String name = null;
        Map<String, List<String>> params = new TreeMap<>();
        Pattern param = Pattern.compile("\\s+param \"([^\"]+)\" = \\{(.*)}");
        List<String> withEnd = new ArrayList<>(lines);
        withEnd.add("END");
        for (String line : withEnd) {
            Matcher m = param.matcher(line);
            if (m.matches()) {
                params.put(m.group(1), Arrays.stream(m.group(2).split(",")).map(String::strip).toList());
                continue;
            }
            if (name != null) {
                for (var e : paramValues.entrySet()) { // --param: the benchmark's own values give way to these
                    params.computeIfPresent(e.getKey(), (k, own) -> List.copyOf(e.getValue()));
                }
                for (Map<String, String> combo : combinations(params)) {
                    all.add(bench(name, combo));
                }
                name = null;
                params = new TreeMap<>();
            }
            if (line.startsWith("io.")) {
                name = line.strip();
            }
        }
        return all;
    }

    static List<Map<String, String>> combinations(Map<String, List<String>> params) {
        List<Map<String, String>> result = new ArrayList<>();
        result.add(new TreeMap<>());
        for (var e : params.entrySet()) {
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> partial : result) {
                for (String v : e.getValue()) {
                    Map<String, String> m = new TreeMap<>(partial);
                    m.put(e.getKey(), v);
                    next.add(m);
                }
            }
            result = next;
        }
        return result;
    }

    static Bench bench(String name, Map<String, String> params) {
        String[] parts = name.split("\\.");
        String cls = parts[parts.length - 2];
        String method = parts[parts.length - 1];
        String family = cls.endsWith("Preview") ? cls.substring(0, cls.length() - "Preview".length()) : cls;
        int underscore = method.indexOf('_');
        String side = underscore < 0 ? method : method.substring(0, underscore);
        String variant = underscore < 0 ? "" : method.substring(underscore + 1);
        return new Bench(name, family, side, variant, params);
    }

    /** The chosen benchmarks, grouped by family and parameter set; each group has ours first. */
    List<List<Bench>> groups(List<Bench> all) {
        Map<String, List<String>> wanted = new LinkedHashMap<>(); // family -> peers (empty: all)
        for (String f : families) {
            if (f.equals("goals")) {
                wanted.putAll(GOALS);
            } else if (f.equals("all")) {
                all.forEach(b -> wanted.putIfAbsent(b.family(), List.of()));
            } else {
                int colon = f.indexOf(':');
                wanted.put(colon < 0 ? f : f.substring(0, colon),
                        colon < 0 ? List.of() : List.of(f.substring(colon + 1).split(",")));
            }
        }
        Pattern excluded = exclude == null ? null : Pattern.compile(exclude);
        Map<String, List<Bench>> byGroup = new LinkedHashMap<>();
        for (Bench b : all) {
            List<String> peers = wanted.get(b.family());
            if (peers == null || (excluded != null && excluded.matcher(b.name()).find())) {
                continue;
            }
            if (!b.side().equals("ours") && !peers.isEmpty() && !peers.contains(b.sideName()) && !peers.contains(b.side())) {
                continue;
            }
            byGroup.computeIfAbsent(b.groupKey(), k -> new ArrayList<>()).add(b);
        }
        for (String f : wanted.keySet()) {
            if (all.stream().noneMatch(b -> b.family().equals(f))) {
                usage("no family " + f + " in the jar");
            }
        }
        List<List<Bench>> groups = new ArrayList<>();
        for (List<Bench> g : byGroup.values()) {
            // keep an ours side only if a peer with its variant is there, and a peer only if its ours is
            List<Bench> kept = new ArrayList<>();
            for (Bench b : g) {
                boolean ours = b.side().equals("ours");
                boolean partner = g.stream().anyMatch(o -> o.variant().equals(b.variant()) && (ours != o.side().equals("ours")));
                if (partner) {
                    kept.add(b);
                }
            }
            kept.sort((a, b) -> Boolean.compare(!a.side().equals("ours"), !b.side().equals("ours")));
            if (!kept.isEmpty()) {
                groups.add(kept);
            }
        }
        return groups;
    }

    List<String> command(Bench b, Path json) {
        List<String> c = new ArrayList<>();
        if (benchCpus != null) {
            c.addAll(List.of("taskset", "-c", benchCpus));
        }
        c.addAll(List.of(javaBin, "-jar", jar.toString(), "^" + Pattern.quote(b.name()) + "$"));
        b.params().forEach((k, v) -> c.addAll(List.of("-p", k + "=" + v)));
        c.addAll(List.of("-f", "1", "-wi", String.valueOf(warmups), "-w", time, "-i", String.valueOf(iterations), "-r", time,
                "-foe", "true", "-rf", "json", "-rff", json.toString()));
        c.addAll(jmhExtra);
        return c;
    }

    Fork fork(int round, Bench b) throws IOException, InterruptedException {
        String base = String.format(Locale.ROOT, "r%02d-%s-%s%s", round, b.family(), b.sideName(),
                b.params().isEmpty() ? "" : "-" + b.paramText().replace(' ', '-').replace('=', '-'));
        Path json = out.resolve("forks").resolve(base + ".json");
        Path log = out.resolve("forks").resolve(base + ".log");
        long t0;
        int status;
        long waitedSince = System.nanoTime();
        while (true) {
            t0 = System.nanoTime();
            Process p = new ProcessBuilder(command(b, json)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            running = p;
            status = p.waitFor();
            running = null;
            // JMH allows one run per machine (/tmp/jmh.lock) and exits at once when another holds it:
            // wait for that run to end rather than run beside it or record a failure.
            if (status == 0 || !Files.readString(log).contains("Unable to acquire the JMH lock")) {
                break;
            }
            long waited = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - waitedSince);
            if (waited > LOCK_PATIENCE_SECONDS) {
                break;
            }
            if (waited == 0) {
                System.out.println("  (another JMH run holds /tmp/jmh.lock; waiting for it to end)");
            }
            Thread.sleep(2_000);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double load = load1();
        String file = out.relativize(json).toString();
        if (status != 0 || !Files.isRegularFile(json) || Files.size(json) == 0) {
            return new Fork(round, b, "", Double.NaN, "", load, secs, file, "exit " + status + ", see " + log.getFileName());
        }
        List<?> results = (List<?>) new Report.Json(Files.readString(json)).parse();
        if (results.size() != 1) {
            return new Fork(round, b, "", Double.NaN, "", load, secs, file, results.size() + " results in " + json.getFileName());
        }
        Report.Result r = Report.toResult((Map<?, ?>) results.get(0));
        return new Fork(round, b, Report.stat(r.mode()), r.score(), r.unit(), load, secs, file, null);
    }

    // ---------------------------------------------------------------- noise and clean-up

    void startNoise() throws IOException {
        // A CPU-bound loop that gives up once its parent (this program) is gone, even after a kill -9.
        String loop = "p=$PPID; while kill -0 $p 2>/dev/null; do i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; done";
        for (int i = 0; i < noise; i++) {
            List<String> c = new ArrayList<>();
            if (noiseCpus != null) {
                c.addAll(List.of("taskset", "-c", noiseCpus));
            }
            c.addAll(List.of("sh", "-c", loop));
            noiseLoops.add(new ProcessBuilder(c).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
        }
        if (noise > 0) {
            System.out.println("Noise loops started: pids " + noiseLoops.stream().map(p -> String.valueOf(p.pid())).toList());
        }
    }

    void stopNoise() {
        for (Process p : noiseLoops) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        noiseLoops.clear();
    }

    void cleanUp() {
        Process p = running;
        if (p != null) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        stopNoise();
    }

    static double load1() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    static String loadText() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    static int nproc() {
        return Runtime.getRuntime().availableProcessors();
    }

    // ---------------------------------------------------------------- statistics

    /** ours vs one peer in one group. */
    record Row(String family, String params, String ours, String peer, String stat, int pairs, double median, double low,
               double high, double loadMin, double loadMedian, double loadMax, double oursMedian, double peerMedian,
               String unit, List<Double> ratios, List<Double> loads) {}

    List<Row> summarize(List<List<Bench>> groups, List<Fork> forks) {
        List<Row> rows = new ArrayList<>();
        Random bootstrap = new Random(seed);
        for (List<Bench> g : groups) {
            for (Bench peer : g) {
                if (peer.side().equals("ours")) {
                    continue;
                }
                Bench ours = g.stream().filter(b -> b.side().equals("ours") && b.variant().equals(peer.variant())).findFirst().orElseThrow();
                List<Double> ratios = new ArrayList<>();
                List<Double> loads = new ArrayList<>();
                List<Double> oursScores = new ArrayList<>();
                List<Double> peerScores = new ArrayList<>();
                String unit = "";
                String stat = "";
                for (int round = 1; round <= rounds; round++) {
                    Fork o = find(forks, round, ours);
                    Fork p = find(forks, round, peer);
                    if (o == null || p == null || o.error() != null || p.error() != null || !(p.score() > 0)
                            || !o.unit().equals(p.unit())) {
                        continue;
                    }
                    ratios.add(o.score() / p.score());
                    loads.add((o.load() + p.load()) / 2);
                    oursScores.add(o.score());
                    peerScores.add(p.score());
                    unit = o.unit();
                    stat = o.stat();
                }
                double[] ci = bootstrap(ratios, bootstrap);
                rows.add(new Row(peer.family(), peer.paramText(), ours.sideName(), peer.sideName(), stat, ratios.size(),
                        median(ratios), ci[0], ci[1], min(loads), median(loads), max(loads), median(oursScores),
                        median(peerScores), unit, ratios, loads));
            }
        }
        rows.sort((a, b) -> a.family().equals(b.family()) ? 0 : a.family().compareTo(b.family()));
        return rows;
    }

    static Fork find(List<Fork> forks, int round, Bench b) {
        for (Fork f : forks) {
            if (f.round() == round && f.bench().equals(b)) {
                return f;
            }
        }
        return null;
    }

    /** The 2.5th and 97.5th percentiles of the medians of {@link #RESAMPLES} resamples of the pairs. */
    static double[] bootstrap(List<Double> ratios, Random random) {
        int n = ratios.size();
        if (n == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double[] medians = new double[RESAMPLES];
        List<Double> sample = new ArrayList<>(n);
        for (int r = 0; r < RESAMPLES; r++) {
            sample.clear();
            for (int i = 0; i < n; i++) {
                sample.add(ratios.get(random.nextInt(n)));
            }
            medians[r] = median(sample);
        }
        Arrays.sort(medians);
        return new double[] {medians[(int) Math.floor(0.025 * (RESAMPLES - 1))], medians[(int) Math.ceil(0.975 * (RESAMPLES - 1))]};
    }

    static double median(List<Double> values) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> s = new ArrayList<>(values);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    static double max(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    // ---------------------------------------------------------------- output

    static String ratio(double r) {
        return Double.isNaN(r) ? "" : String.format(Locale.ROOT, "%.2f", r);
    }

    static String markdown(List<Row> rows) {
        StringBuilder b = new StringBuilder();
        String family = null;
        List<String[]> table = new ArrayList<>();
        for (Row r : rows) {
            if (!r.family().equals(family)) {
                if (family != null) {
                    b.append(table(table)).append('\n');
                }
                family = r.family();
                b.append("### ").append(family).append("\n\n");
                table = new ArrayList<>();
                table.add(new String[] {"Params", "ours/peer", "Peer", "Median ratio", "95% CI", "Pairs", "Load (1 min) min–med–max",
                        "Ours", "Peer", "Unit"});
            }
            table.add(new String[] {r.params(), r.ours(), r.peer(), ratio(r.median()), ratio(r.low()) + "–" + ratio(r.high()),
                    String.valueOf(r.pairs()),
                    String.format(Locale.ROOT, "%.1f–%.1f–%.1f", r.loadMin(), r.loadMedian(), r.loadMax()),
                    r.stat() + " " + Report.number(r.oursMedian()), r.stat() + " " + Report.number(r.peerMedian()), r.unit()});
        }
        if (family != null) {
            b.append(table(table));
        }
        b.append("\nMedian ratio: median over the rounds of ours' fork / the peer's fork in the same round (below 1.00: ours faster);"
                + " 95% CI: percentile bootstrap of that median over the pairs. Ours, Peer: median over the rounds of each fork's score"
                + " (med: median of its iterations; p50: median of its samples).\n");
        return b.toString();
    }

    /** A Markdown table, padded so it also reads as plain text; every column but the first three right-aligned. */
    static String table(List<String[]> rows) {
        int[] width = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (int r = 0; r < rows.size(); r++) {
            b.append('|');
            for (int i = 0; i < width.length; i++) {
                String cell = rows.get(r)[i];
                String pad = " ".repeat(width[i] - cell.length());
                b.append(' ').append(i < 3 || i == width.length - 1 ? cell + pad : pad + cell).append(" |");
            }
            b.append('\n');
            if (r == 0) {
                b.append('|');
                for (int i = 0; i < width.length; i++) {
                    b.append(i < 3 || i == width.length - 1 ? " " + "-".repeat(width[i]) + " |" : " " + "-".repeat(width[i] - 1) + ": |");
                }
                b.append('\n');
            }
        }
        return b.toString();
    }

    String json(String header, List<Row> rows, List<Fork> forks) {
        StringBuilder b = new StringBuilder("{\n  \"run\": ").append(q(header)).append(",\n  \"seed\": ").append(seed)
                .append(",\n  \"noise\": ").append(noise).append(",\n  \"rounds\": ").append(rounds)
                .append(",\n  \"fork\": ").append(q("-f 1 -wi " + warmups + " -i " + iterations + " -w " + time + " -r " + time))
                .append(",\n  \"rows\": [");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            b.append(i == 0 ? "\n" : ",\n").append("    {\"family\": ").append(q(r.family())).append(", \"params\": ").append(q(r.params()))
                    .append(", \"ours\": ").append(q(r.ours())).append(", \"peer\": ").append(q(r.peer()))
                    .append(", \"stat\": ").append(q(r.stat())).append(", \"unit\": ").append(q(r.unit()))
                    .append(", \"pairs\": ").append(r.pairs()).append(", \"median\": ").append(n(r.median()))
                    .append(", \"ciLow\": ").append(n(r.low())).append(", \"ciHigh\": ").append(n(r.high()))
                    .append(", \"loadMin\": ").append(n(r.loadMin())).append(", \"loadMedian\": ").append(n(r.loadMedian()))
                    .append(", \"loadMax\": ").append(n(r.loadMax()))
                    .append(", \"oursMedian\": ").append(n(r.oursMedian())).append(", \"peerMedian\": ").append(n(r.peerMedian()))
                    .append(", \"ratios\": ").append(r.ratios().stream().map(Interleave::n).toList())
                    .append(", \"loads\": ").append(r.loads().stream().map(Interleave::n).toList()).append('}');
        }
        b.append("\n  ],\n  \"forks\": [");
        for (int i = 0; i < forks.size(); i++) {
            Fork f = forks.get(i);
            b.append(i == 0 ? "\n" : ",\n").append("    {\"round\": ").append(f.round()).append(", \"benchmark\": ").append(q(f.bench().name()))
                    .append(", \"params\": ").append(q(f.bench().paramText())).append(", \"stat\": ").append(q(f.stat()))
                    .append(", \"score\": ").append(n(f.score())).append(", \"unit\": ").append(q(f.unit()))
                    .append(", \"load\": ").append(n(f.load())).append(", \"seconds\": ").append(n(f.seconds()))
                    .append(", \"file\": ").append(q(f.file())).append(", \"error\": ").append(f.error() == null ? "null" : q(f.error()))
                    .append('}');
        }
        return b.append("\n  ]\n}\n").toString();
    }

    static String q(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }

    static String n(double d) {
        return Double.isNaN(d) || Double.isInfinite(d) ? "null" : String.format(Locale.ROOT, "%.6g", d);
    }

    // ---------------------------------------------------------------- two runs side by side

    /**
     * Prints each row of two runs side by side and whether the two median ratios agree within 15%:
     * the larger over the smaller at most 1.15.
     */
    static void compare(Path a, Path b) throws IOException {
        Map<?, ?> runA = (Map<?, ?>) new Report.Json(Files.readString(a)).parse();
        Map<?, ?> runB = (Map<?, ?>) new Report.Json(Files.readString(b)).parse();
        Map<String, Map<?, ?>> rowsB = new LinkedHashMap<>();
        for (Object o : (List<?>) runB.get("rows")) {
            Map<?, ?> r = (Map<?, ?>) o;
            rowsB.put(key(r), r);
        }
        System.out.println("A: " + runA.get("run"));
        System.out.println("B: " + runB.get("run"));
        System.out.println();
        List<String[]> table = new ArrayList<>();
        table.add(new String[] {"Family", "Params", "Peer", "A ratio", "A 95% CI", "A load", "B ratio", "B 95% CI", "B load", "B/A",
                "Within 15%"});
        int held = 0;
        int total = 0;
        for (Object o : (List<?>) runA.get("rows")) {
            Map<?, ?> ra = (Map<?, ?>) o;
            Map<?, ?> rb = rowsB.get(key(ra));
            if (rb == null) {
                continue;
            }
            double ma = Report.number(ra.get("median"));
            double mb = Report.number(rb.get("median"));
            double change = mb / ma;
            boolean within = Math.max(change, 1 / change) <= 1.15;
            total++;
            held += within ? 1 : 0;
            table.add(new String[] {(String) ra.get("family"), (String) ra.get("params"), ra.get("ours") + " / " + ra.get("peer"),
                    ratio(ma), ci(ra), load(ra), ratio(mb), ci(rb), load(rb), ratio(change), within ? "yes" : "no"});
        }
        System.out.print(table(table));
        System.out.println();
        System.out.println(held + " of " + total + " ratios agree within 15% (larger/smaller <= 1.15).");
    }

    static String key(Map<?, ?> r) {
        return r.get("family") + "|" + r.get("params") + "|" + r.get("ours") + "|" + r.get("peer");
    }

    static String ci(Map<?, ?> r) {
        return ratio(Report.number(r.get("ciLow"))) + "–" + ratio(Report.number(r.get("ciHigh")));
    }

    static String load(Map<?, ?> r) {
        return String.format(Locale.ROOT, "%.1f–%.1f", Report.number(r.get("loadMin")), Report.number(r.get("loadMax")));
    }
}
