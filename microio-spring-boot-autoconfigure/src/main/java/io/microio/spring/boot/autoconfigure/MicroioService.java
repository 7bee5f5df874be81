package io.microio.spring.boot.autoconfigure;

import io.microio.Service;
import io.microio.ServiceThread;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a bean that the application context runs as a microio service, in the service group this
 * annotation names.
 *
 * <p>The bean is either a {@link ServiceThread.Body}, which then runs on a {@link ServiceThread} of its
 * own, or a {@link Service}, which then joins the named group instead of the default one (a
 * {@code Service} bean without this annotation joins the default group). The annotation goes on the
 * bean's class or on its {@code @Bean} method:
 *
 * <pre>{@code
 * @Component
 * @MicroioService(group = "upstream")
 * class Reader implements ServiceThread.Body {
 *     public void run(ServiceContext ctx) throws IOException {
 *         try (Socket socket = connect()) {
 *             ctx.onStop(() -> closeQuietly(socket));
 *             ctx.started();
 *             ...
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>Each group starts its services in bean registration order, a bean after the service beans it
 * depends on, and stops them in the reverse order. A bean annotated with this annotation that is
 * neither a {@code Body} nor a {@code Service} fails the application startup.
 */
@Target({ ElementType.TYPE, ElementType.METHOD })
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface MicroioService {

    /** Name of the default service group. */
    String DEFAULT_GROUP = "default";

    /**
     * {@return the name of the service group the bean joins} A group starts and stops as one: when
     * one of its services fails, the group stops the others.
     */
    String group() default DEFAULT_GROUP;

    /**
     * {@return the name of the service, which also names its thread} Defaults to the bean name. Ignored
     * for a {@link Service} bean, which has its own name.
     */
    String name() default "";

    /** {@return whether a {@link ServiceThread.Body} bean runs on a virtual thread} Ignored for a {@link Service} bean. */
    boolean virtual() default false;
}
