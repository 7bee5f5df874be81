package io.microio.spring.boot.autoconfigure.context;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.context.ContextRegistry;
import io.microio.ContextPropagator;
import io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@link MicroioContextPropagationAutoConfiguration}: which propagator is installed, for how long, and how
 * it is switched off.
 */
class MicroioContextPropagationAutoConfigurationTests {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(MicroioAutoConfiguration.class,
                    MicroioContextPropagationAutoConfiguration.class));

    @AfterEach
    void nothingStaysInstalled() {
        assertThat(ContextPropagator.installed()).as("installed after the context closed").isNull();
    }

    /** With context-propagation on the class path, its propagator is installed while the context runs. */
    @Test
    void propagationWhenLibraryPresentShouldInstallMicrometerPropagatorUntilClose() {
        contextRunner.run(context -> {
            assertThat(context).hasSingleBean(MicrometerContextPropagator.class);
            assertThat(ContextPropagator.installed()).isSameAs(context.getBean(ContextPropagator.class));
            assertThat(context.getBean(MicrometerContextPropagator.class).copiesMdc()).isTrue();
        });
    }

    /** {@code microio.context-propagation.mdc=false} leaves the MDC out. */
    @Test
    void propagationWhenMdcSwitchedOffShouldNotCopyMdc() {
        contextRunner.withPropertyValues("microio.context-propagation.mdc=false").run(context ->
                assertThat(context.getBean(MicrometerContextPropagator.class).copiesMdc()).isFalse());
    }

    /** {@code microio.context-propagation.enabled=false} installs nothing. */
    @Test
    void propagationWhenDisabledShouldInstallNothing() {
        contextRunner.withPropertyValues("microio.context-propagation.enabled=false").run(context -> {
            assertThat(context).doesNotHaveBean(ContextPropagator.class);
            assertThat(context).doesNotHaveBean(ContextPropagatorInstallation.class);
            assertThat(ContextPropagator.installed()).isNull();
        });
    }

    /** Without context-propagation on the class path, nothing is installed and nothing fails. */
    @Test
    void propagationWhenLibraryAbsentShouldInstallNothing() {
        contextRunner.withClassLoader(new FilteredClassLoader(ContextRegistry.class)).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(ContextPropagator.class);
            assertThat(ContextPropagator.installed()).isNull();
        });
    }

    /** An application's own propagator replaces Micrometer's, and is the one installed. */
    @Test
    void propagationWhenApplicationDefinesPropagatorShouldInstallIt() {
        contextRunner.withUserConfiguration(OwnPropagator.class).run(context -> {
            assertThat(context).doesNotHaveBean(MicrometerContextPropagator.class);
            assertThat(ContextPropagator.installed()).isSameAs(context.getBean("ownPropagator"));
        });
    }

    /** Its own propagator is used even without context-propagation on the class path. */
    @Test
    void propagationWhenApplicationDefinesPropagatorWithoutLibraryShouldInstallIt() {
        contextRunner.withUserConfiguration(OwnPropagator.class)
                .withClassLoader(new FilteredClassLoader(ContextRegistry.class))
                .run(context -> assertThat(ContextPropagator.installed()).isSameAs(context.getBean("ownPropagator")));
    }

    /** Closing a context whose propagator was replaced since leaves the newer one installed. */
    @Test
    void propagationWhenReplacedByAnotherContextShouldLeaveTheNewerInstalled() {
        contextRunner.run(first -> contextRunner.withUserConfiguration(OwnPropagator.class).run(second -> {
            Object own = second.getBean("ownPropagator");
            assertThat(ContextPropagator.installed()).isSameAs(own);
            first.close();
            assertThat(ContextPropagator.installed()).isSameAs(own);
        }));
    }

    /**
     * Closing the newest of two running contexts installs the older one's propagator again: each context
     * has a propagator installed for as long as it runs.
     */
    @Test
    void propagationWhenNewerContextClosesShouldReinstallTheOlderContextsPropagator() {
        contextRunner.run(first -> {
            ContextPropagator firstPropagator = first.getBean(ContextPropagator.class);
            contextRunner.withUserConfiguration(OwnPropagator.class).run(second ->
                    assertThat(ContextPropagator.installed()).isSameAs(second.getBean("ownPropagator")));
            assertThat(ContextPropagator.installed()).as("installed while the first context still runs")
                    .isSameAs(firstPropagator);
        });
    }

    /** A propagator installed by something other than a context is left alone when a context closes. */
    @Test
    void propagationWhenInstalledOutsideAnyContextShouldNotBeReplacedWhenContextCloses() {
        ContextPropagator outside = () -> () -> () -> {};
        contextRunner.run(first -> contextRunner.run(second -> {
            try (ContextPropagator.Installation installation = ContextPropagator.install(outside)) {
                second.close();
                assertThat(ContextPropagator.installed()).isSameAs(outside);
            }
        }));
    }

    /**
     * An installation made outside any context, of the very propagator object the newest context installed,
     * is left alone when that context closes: the older context's propagator does not replace it.
     */
    @Test
    void propagationWhenSamePropagatorInstalledOutsideAnyContextShouldNotBeReplacedWhenContextCloses() {
        contextRunner.run(first -> contextRunner.withUserConfiguration(OwnPropagator.class).run(second -> {
            ContextPropagator own = (ContextPropagator) second.getBean("ownPropagator");
            try (ContextPropagator.Installation installation = ContextPropagator.install(own)) {
                second.close();
                assertThat(ContextPropagator.installed()).as("installed after the newest context closed")
                        .isSameAs(own);
            }
        }));
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnPropagator {

        @Bean
        ContextPropagator ownPropagator() {
            return () -> () -> () -> {};
        }
    }
}
