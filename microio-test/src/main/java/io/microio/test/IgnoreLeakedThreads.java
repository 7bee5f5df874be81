package io.microio.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names threads that the {@link ThreadLeakExtension} does not count as leaks, by the start of their
 * names: for shared threads that a library starts once per JVM and never stops, which some test
 * happens to be the first to need.
 *
 * <pre>{@code
 * @IgnoreLeakedThreads("prometheus-metrics-scheduler-")
 * class MetricsEndpointTest { ... }
 * }</pre>
 *
 * <p>On a test method it covers that test; on a class, every test of the class, of its
 * {@code @Nested} classes and of its subclasses, and the class's own check (what {@code @BeforeAll}
 * started). The prefixes of every such annotation that applies to a test add up, and add to the
 * extension's built-in ones ({@link ThreadLeakExtension#IGNORED_NAME_PREFIXES}) and to those of the
 * configuration parameter {@value ThreadLeakExtension#IGNORE_PARAMETER}. It may also be used as a
 * meta-annotation, to give a set of prefixes a name of your own.
 *
 * <p>An ignored thread is ignored for good: the enclosing class's check does not report it either.
 * Prefer a short list of exact prefixes: a thread your own code leaks under an ignored name goes
 * unnoticed.
 */
@Target({ ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
public @interface IgnoreLeakedThreads {

    /**
     * Name prefixes of the threads to ignore; a thread whose name starts with any of them is not a
     * leak. Compared case-sensitively, as {@link String#startsWith(String)} does.
     *
     * @return the prefixes
     */
    String[] value();
}
