package io.microio.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.Service;
import io.microio.ServiceState.Phase;
import io.microio.ServiceThread;
import io.microio.spring.boot.autoconfigure.TestServices.Events;
import io.microio.spring.boot.autoconfigure.TestServices.RecordingBody;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.aot.test.generate.TestGenerationContext;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.aot.ApplicationContextAotGenerator;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.core.test.tools.CompileWithForkedClassLoader;
import org.springframework.core.test.tools.TestCompiler;
import org.springframework.javapoet.ClassName;

/**
 * Service groups in an application context processed ahead of time, as Spring AOT (and a native image)
 * does it: the context is refreshed for AOT processing, its bean definitions are written as Java code,
 * the code is compiled, and a fresh context is started from it alone.
 */
@CompileWithForkedClassLoader
@Timeout(60)
class ServiceGroupAotTests {

    /**
     * The registered groups survive AOT processing: the processing succeeds, and the context started from
     * the generated code runs each group with its services and stops them when it closes.
     */
    @Test
    void serviceGroupsWhenProcessedAheadOfTimeShouldRunFromGeneratedCode() {
        processAndRun(TwoGroups.class, context -> {
            ServiceGroupLifecycle defaultGroup = context.getBean("microioServiceGroup.default", ServiceGroupLifecycle.class);
            ServiceGroupLifecycle other = context.getBean("microioServiceGroup.other", ServiceGroupLifecycle.class);
            assertThat(context.getBeansOfType(ServiceGroupLifecycle.class)).hasSize(2);
            assertThat(defaultGroup.serviceNames()).containsExactly("worker", "reader");
            assertThat(other.serviceNames()).containsExactly("component-reader", "other-reader");
            assertThat(defaultGroup.states().values()).allSatisfy(s -> assertThat(s.phase()).isEqualTo(Phase.RUNNING));
            assertThat(other.states().values()).allSatisfy(s -> assertThat(s.phase()).isEqualTo(Phase.RUNNING));
            Events events = context.getBean(Events.class);
            assertThat(events.all()).contains("start:worker", "start:reader", "start:component-reader",
                    "start:other-reader");
            Service worker = context.getBean("worker", Service.class);

            context.close();

            assertThat(worker.state().phase()).isEqualTo(Phase.TERMINATED);
            assertThat(events.all()).contains("stop:worker", "stop:reader", "stop:component-reader",
                    "stop:other-reader");
        });
    }

    /** Processes {@code configuration} with the auto-configuration ahead of time, then refreshes a fresh context from the generated code. */
    private static void processAndRun(Class<?> configuration, Consumer<GenericApplicationContext> assertions) {
        TestGenerationContext generation = new TestGenerationContext();
        ClassName initializerName;
        try (AnnotationConfigApplicationContext source = new AnnotationConfigApplicationContext()) {
            source.register(MicroioAutoConfiguration.class, configuration);
            initializerName = new ApplicationContextAotGenerator().processAheadOfTime(source, generation);
        }
        generation.writeGeneratedContent();
        TestCompiler.forSystem().with(generation).compile(compiled -> {
            @SuppressWarnings("unchecked")
            ApplicationContextInitializer<GenericApplicationContext> initializer = compiled
                    .getInstance(ApplicationContextInitializer.class, initializerName.toString());
            GenericApplicationContext context = new GenericApplicationContext();
            try (context) {
                initializer.initialize(context);
                context.refresh();
                assertions.accept(context);
            }
        });
    }

    /**
     * A {@link Service} bean and a body in the default group; in another group, an annotated class and
     * an annotated {@code @Bean} method.
     */
    @Configuration(proxyBeanMethods = false)
    @Import(ComponentReader.class)
    static class TwoGroups {

        @Bean
        Events events() {
            return new Events();
        }

        @Bean
        Service worker(Events events) {
            return ServiceThread.builder("worker").build(new RecordingBody("worker", events));
        }

        @Bean
        @MicroioService(name = "reader")
        ServiceThread.Body readerBody(Events events) {
            return new RecordingBody("reader", events);
        }

        @Bean
        @MicroioService(group = "other", name = "other-reader")
        ServiceThread.Body otherReaderBody(Events events) {
            return new RecordingBody("other-reader", events);
        }
    }

    /** A body annotated on its class. */
    @MicroioService(group = "other", name = "component-reader")
    static class ComponentReader extends RecordingBody {
        ComponentReader(Events events) {
            super("component-reader", events);
        }
    }
}
