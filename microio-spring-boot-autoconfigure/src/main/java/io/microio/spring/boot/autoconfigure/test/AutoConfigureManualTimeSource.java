package io.microio.spring.boot.autoconfigure.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;

/**
 * Puts a {@link io.microio.ManualTimeSource} into the application context of a test, as the primary
 * {@link io.microio.TimeSource} bean, in place of the starter's {@link io.microio.TimeSource#system()}:
 * the starter's deadlines (each request's {@code microio.web.request-timeout}, the shutdown drain's
 * {@code microio.web.drain-timeout}), and those of the application's own microio objects built with the
 * {@code TimeSource} bean, then pass only when the test moves the clock.
 *
 * <pre>{@code
 * @SpringBootTest
 * @AutoConfigureManualTimeSource
 * class DeadlineTests {
 *     @Autowired ManualTimeSource clock;
 *
 *     @Test
 *     void requestTimesOut() {
 *         ...
 *         clock.advance(Duration.ofSeconds(2));
 *     }
 * }
 * }</pre>
 *
 * <p>The bean is named {@code microioManualTimeSource}. A context that already defines a
 * {@code ManualTimeSource} bean keeps its own. The clock starts at zero and never moves by itself.
 *
 * <p>Like Spring Boot's own {@code @AutoConfigure...} annotations it imports an auto-configuration,
 * {@link ManualTimeSourceAutoConfiguration}, through {@link ImportAutoConfiguration}, which Spring Boot's
 * test support honours on a test class; it needs nothing of {@code spring-test} itself, and it can
 * equally annotate a configuration class given to an {@code ApplicationContextRunner}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ImportAutoConfiguration(ManualTimeSourceAutoConfiguration.class)
public @interface AutoConfigureManualTimeSource {
}
