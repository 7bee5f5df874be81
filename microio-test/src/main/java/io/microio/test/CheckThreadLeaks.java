package io.microio.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Checks every test of the annotated class, its {@code @Nested} classes and its subclasses with the
 * {@link ThreadLeakExtension}: a test fails when it leaves a thread it started alive, or leaves the
 * interrupt flag of its thread set.
 *
 * <pre>{@code
 * @CheckThreadLeaks
 * class OrderServiceTest {
 *     @Test
 *     void cancelsTheWait() { ... }
 * }
 * }</pre>
 *
 * <p>The same as {@code @ExtendWith(ThreadLeakExtension.class)}. To check every test of a suite
 * without annotating each class, turn on JUnit's extension autodetection instead (see
 * {@link ThreadLeakExtension}); a class that is both annotated and autodetected is checked once.
 *
 * @see IgnoreLeakedThreads
 */
@Target({ ElementType.TYPE, ElementType.ANNOTATION_TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(ThreadLeakExtension.class)
public @interface CheckThreadLeaks {
}
