package io.microio.stress;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedSet;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.infra.Status;
import org.openjdk.jcstress.infra.collectors.DiskReadCollector;
import org.openjdk.jcstress.infra.collectors.InProcessCollector;
import org.openjdk.jcstress.infra.collectors.TestResult;
import org.openjdk.jcstress.infra.grading.GradingResult;
import org.openjdk.jcstress.infra.grading.ReportUtils;
import org.openjdk.jcstress.infra.runners.TestList;

/**
 * Checks a jcstress run of this module for the build, which fails when this exits non-zero. The exit
 * code of jcstress 0.16 cannot tell a good run from a bad one: it is 1 whenever a test fails, which
 * the canaries always do, and 0 when no test matched at all.
 *
 * <ul>
 *   <li>{@code prepare <dir>}, before the run: the tests compiled into the index
 *       {@code META-INF/TestList} (written by the jcstress annotation processor) and the classes
 *       annotated {@code @JCStressTest} must both be exactly the tests declared in
 *       {@link StressSuite}. Then empties {@code <dir>}, where jcstress writes its result file, so that
 *       no earlier result can be read as this run's.
 *   <li>{@code verify <dir>}, after the run: there must be exactly one result file; every declared
 *       test must have run, with samples and without errors; a real test must show no forbidden
 *       outcome; a canary must show one.
 * </ul>
 */
public final class StressCheck {
    private static final String PACKAGE_PATH = StressCheck.class.getPackageName().replace('.', '/') + '/';
    private static final String RESULT_FILE_PREFIX = "jcstress-results-";
    private static final String RESULT_FILE_SUFFIX = ".bin.gz";

    private StressCheck() {}

    /**
     * Runs a check.
     *
     * @param args {@code prepare <dir>} or {@code verify <dir>}
     */
    public static void main(String[] args) {
        if (args.length != 2 || !(args[0].equals("prepare") || args[0].equals("verify"))) {
            System.err.println("usage: StressCheck prepare|verify <run directory>");
            System.exit(2);
        }
        Path dir = Path.of(args[1]);
        List<String> problems = new ArrayList<>();
        try {
            if (args[0].equals("prepare")) {
                prepare(dir, problems);
            } else {
                verify(dir, problems);
            }
        } catch (IOException | ClassNotFoundException | RuntimeException e) {
            problems.add("the check itself failed: " + e);
            e.printStackTrace();
        }
        if (!problems.isEmpty()) {
            System.out.println();
            System.out.println("STRESS CHECK FAILED (" + args[0] + "), " + problems.size() + " problem(s):");
            problems.forEach(p -> System.out.println("  - " + p));
            if (args[0].equals("verify")) {
                System.out.println("jcstress's own output: " + dir.resolve("jcstress-output.txt")
                        + "; its report: " + dir.resolve("report").resolve("index.html"));
            }
            System.out.flush();
            System.exit(1);
        }
    }

    // ---------------------------------------------------------------- prepare

    private static void prepare(Path dir, List<String> problems) throws IOException {
        SequencedSet<String> declared = declaredTests(problems);
        int expected = StressSuite.expectedTestCount();

        TreeSet<String> listed = listedTests();
        TreeSet<String> missing = new TreeSet<>(declared);
        missing.removeAll(listed);
        if (!missing.isEmpty()) {
            problems.add(String.format(
                    "too few tests: META-INF/TestList lists %d of the %d expected jcstress tests; missing %s."
                            + " Did the jcstress annotation processor run? From JDK 23 on, javac runs annotation"
                            + " processors only with -proc:full or an explicit processor path (see stress/pom.xml).",
                    declared.size() - missing.size(), expected, missing));
        }
        for (String name : listed) {
            if (!declared.contains(name)) {
                problems.add(name + " is in META-INF/TestList but not declared in StressSuite: add it there with its canary");
            }
        }

        TreeSet<String> annotated = annotatedTests();
        for (String name : annotated) {
            if (!declared.contains(name)) {
                problems.add(name + " is annotated @JCStressTest but not declared in StressSuite: add it there with its canary");
            }
        }
        for (String name : declared) {
            if (!annotated.contains(name)) {
                problems.add(name + " is declared in StressSuite but is not annotated @JCStressTest");
            }
        }

        emptyDirectory(dir);
        if (problems.isEmpty()) {
            System.out.printf("stress prepare: %d jcstress tests (%d lanes, each a test and its canary) compiled and"
                    + " declared; run directory %s emptied.%n", expected, StressSuite.LANES.size(), dir);
        }
    }

    /** The declared test names in lane order; adds a problem for any malformed lane. */
    private static SequencedSet<String> declaredTests(List<String> problems) {
        SequencedSet<String> names = new LinkedHashSet<>();
        for (StressSuite.Lane lane : StressSuite.LANES) {
            if (lane.test().getSimpleName().endsWith("Canary")) {
                problems.add("lane test " + lane.test().getName() + " is named like a canary");
            }
            if (!lane.canary().getSimpleName().equals(lane.test().getSimpleName() + "Canary")) {
                problems.add("the canary of " + lane.test().getName() + " must be named "
                        + lane.test().getSimpleName() + "Canary but is " + lane.canary().getName());
            }
            for (Class<?> c : List.of(lane.test(), lane.canary())) {
                if (!names.add(c.getName())) {
                    problems.add(c.getName() + " is declared twice in StressSuite");
                }
            }
        }
        if (names.size() != StressSuite.expectedTestCount()) {
            problems.add("StressSuite declares " + names.size() + " distinct tests but expects "
                    + StressSuite.expectedTestCount());
        }
        return names;
    }

    /** The tests in the annotation processor's index, or none if the processor did not write it. */
    private static TreeSet<String> listedTests() throws IOException {
        try (InputStream index = StressCheck.class.getResourceAsStream(TestList.LIST)) {
            if (index == null) {
                return new TreeSet<>();
            }
        }
        return new TreeSet<>(TestList.tests());
    }

    /** The classes of this package, in the jar or directory this class came from, annotated {@code @JCStressTest}. */
    private static TreeSet<String> annotatedTests() throws IOException {
        Path location;
        try {
            location = Path.of(StressCheck.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the classes of " + StressCheck.class.getPackageName(), e);
        }
        List<String> classFiles;
        if (Files.isDirectory(location)) {
            try (Stream<Path> files = Files.walk(location.resolve(PACKAGE_PATH))) {
                classFiles = files.map(p -> location.relativize(p).toString().replace('\\', '/')).toList();
            }
        } else {
            try (JarFile jar = new JarFile(location.toFile())) {
                classFiles = jar.stream().map(JarEntry::getName).toList();
            }
        }
        TreeSet<String> annotated = new TreeSet<>();
        for (String file : classFiles) {
            if (!file.startsWith(PACKAGE_PATH) || !file.endsWith(".class") || file.endsWith("package-info.class")) {
                continue;
            }
            String name = file.substring(0, file.length() - ".class".length()).replace('/', '.');
            try {
                Class<?> c = Class.forName(name, false, StressCheck.class.getClassLoader());
                if (c.isAnnotationPresent(JCStressTest.class)) {
                    annotated.add(c.getName());
                }
            } catch (ClassNotFoundException | LinkageError e) {
                throw new IllegalStateException("cannot load " + name + " to look for @JCStressTest", e);
            }
        }
        return annotated;
    }

    private static void emptyDirectory(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(dir);
    }

    // ---------------------------------------------------------------- verify

    private static void verify(Path dir, List<String> problems) throws IOException, ClassNotFoundException {
        List<Path> resultFiles;
        try (Stream<Path> files = Files.list(dir)) {
            resultFiles = files.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(RESULT_FILE_PREFIX) && n.endsWith(RESULT_FILE_SUFFIX);
            }).sorted().toList();
        }
        if (resultFiles.isEmpty()) {
            problems.add("jcstress wrote no result file into " + dir + ": it did not run, or stopped before running any test");
            return;
        }
        if (resultFiles.size() > 1) {
            problems.add("stale results: " + dir + " holds " + resultFiles.size() + " result files " + resultFiles
                    + ", so some are from an earlier run; the prepare step must run first and empty it");
            return;
        }

        InProcessCollector collector = new InProcessCollector();
        DiskReadCollector reader = new DiskReadCollector(resultFiles.getFirst().toString(), collector);
        try {
            reader.dump();
        } finally {
            reader.close();
        }
        Map<String, List<TestResult>> byTest = collector.getTestResults().stream()
                .collect(Collectors.groupingBy(TestResult::getName, LinkedHashMap::new, Collectors.toList()));

        SequencedSet<String> declared = declaredTests(problems);
        for (String name : byTest.keySet()) {
            if (!declared.contains(name)) {
                problems.add(name + " ran but is not declared in StressSuite");
            }
        }

        System.out.println("stress verify: results of " + resultFiles.getFirst().getFileName());
        printEnvironment(collector.getTestResults());
        System.out.printf("  %-55s %7s %12s %10s  %s%n", "test", "configs", "samples", "forbidden", "verdict");

        int ran = 0;
        for (StressSuite.Lane lane : StressSuite.LANES) {
            for (Class<?> test : List.of(lane.test(), lane.canary())) {
                boolean canary = test == lane.canary();
                List<TestResult> configs = byTest.getOrDefault(test.getName(), List.of());
                String verdict = judge(test.getName(), canary, configs, problems);
                if (!configs.isEmpty()) {
                    ran++;
                }
                System.out.printf("  %-55s %7d %12d %10d  %s%n", test.getSimpleName(), configs.size(),
                        samples(configs), forbiddenSamples(configs), verdict);
            }
        }
        int expected = StressSuite.expectedTestCount();
        if (ran < expected) {
            problems.add(String.format("too few tests: %d of the %d expected jcstress tests ran", ran, expected));
        }
        if (problems.isEmpty()) {
            System.out.printf("stress verify: OK, %d of %d expected tests ran; every test passed and every canary failed.%n",
                    ran, expected);
        }
    }

    /** Judges one test over all its configurations, adding the problems found; returns a one-word verdict. */
    private static String judge(String name, boolean canary, List<TestResult> configs, List<String> problems) {
        if (configs.isEmpty()) {
            problems.add(name + " did not run: jcstress reported no result for it");
            return "MISSING";
        }
        String verdict = null;
        for (TestResult r : configs) {
            if (r.status() != Status.NORMAL) {
                String firstMessage = Stream.of(r.getMessages(), r.getVmErr()).flatMap(Collection::stream)
                        .findFirst().orElse("no message");
                problems.add(name + " ended with " + r.status() + " (" + ReportUtils.statusToLabel(r) + ") in "
                        + r.getConfig().jvmArgs + ": " + firstMessage);
                verdict = "ERROR";
            }
        }
        if (verdict != null) {
            return verdict;
        }
        long samples = samples(configs);
        if (samples == 0) {
            problems.add(name + " ran no samples");
            return "EMPTY";
        }
        TestResult merged = merged(configs);
        List<String> unknown = merged.grading().gradingResults.values().stream()
                .filter(g -> g.expect == Expect.UNKNOWN && g.count > 0)
                .map(g -> g.id).toList();
        if (!unknown.isEmpty()) {
            problems.add(name + " observed outcomes no @Outcome grades: " + unknown);
            return "UNGRADED";
        }
        long forbidden = forbiddenSamples(configs);
        if (canary) {
            if (forbidden == 0) {
                problems.add(name + " is a canary and PASSED: none of its " + samples + " samples showed the forbidden"
                        + " outcome that its broken code allows, so this run could not have caught the race its lane"
                        + " tests for either (too few samples, or no real concurrency)");
                return "CANARY PASSED";
            }
            return "failed, as a canary must";
        }
        if (forbidden > 0) {
            String observed = merged.grading().gradingResults.values().stream()
                    .filter(g -> g.expect == Expect.FORBIDDEN && g.count > 0)
                    .map(g -> g.id + " x" + g.count).collect(Collectors.joining(", "));
            problems.add(name + " FAILED: observed forbidden outcome(s) " + observed + " in " + samples + " samples");
            return "FAILED";
        }
        return "OK";
    }

    private static TestResult merged(List<TestResult> configs) {
        List<TestResult> merged = ReportUtils.mergedByName(configs);
        if (merged.size() != 1) {
            throw new IllegalStateException("expected one merged result but got " + merged.size());
        }
        return merged.getFirst();
    }

    private static long samples(List<TestResult> configs) {
        return configs.stream().mapToLong(TestResult::getTotalCount).sum();
    }

    private static long forbiddenSamples(List<TestResult> configs) {
        if (configs.isEmpty() || configs.stream().anyMatch(r -> r.status() != Status.NORMAL)) {
            return 0;
        }
        return merged(configs).grading().gradingResults.values().stream()
                .filter(g -> g.expect == Expect.FORBIDDEN)
                .mapToLong(g -> g.count).sum();
    }

    private static void printEnvironment(Collection<TestResult> results) {
        results.stream().map(TestResult::getEnv).filter(e -> e != null).map(e -> e.entries()).distinct()
                .forEach(env -> System.out.printf("  forked JVMs: %s %s (%s), java.version %s%n",
                        env.get("java.vm.name"), env.get("java.vm.version"), env.get("java.vm.vendor"),
                        env.get("java.version")));
        System.out.printf("  checker JVM: %s, java.home %s%n", Runtime.version(), System.getProperty("java.home"));
    }
}
