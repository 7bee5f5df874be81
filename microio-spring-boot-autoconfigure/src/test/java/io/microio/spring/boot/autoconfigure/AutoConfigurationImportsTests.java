package io.microio.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.spring.boot.autoconfigure.context.MicroioContextPropagationAutoConfiguration;
import io.microio.spring.boot.autoconfigure.health.MicroioHealthContributorAutoConfiguration;
import io.microio.spring.boot.autoconfigure.metrics.MicroioMetricsAutoConfiguration;
import io.microio.spring.boot.autoconfigure.web.MicroioWebMvcAutoConfiguration;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfiguration;

/**
 * The auto-configurations are registered only through the imports file, and each is a public final
 * {@code @AutoConfiguration} class.
 */
class AutoConfigurationImportsTests {

    private static final String IMPORTS =
            "META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports";

    /** The imports file lists exactly our five auto-configurations. */
    @Test
    void importsWhenReadShouldListEveryAutoConfiguration() throws IOException {
        assertThat(imports()).containsExactly(MicroioAutoConfiguration.class.getName(),
                MicroioMetricsAutoConfiguration.class.getName(), MicroioHealthContributorAutoConfiguration.class.getName(),
                MicroioWebMvcAutoConfiguration.class.getName(),
                MicroioContextPropagationAutoConfiguration.class.getName());
    }

    /** Each listed class is public, final and annotated {@code @AutoConfiguration}. */
    @Test
    void importsWhenLoadedShouldBePublicFinalAutoConfigurations() throws Exception {
        for (String name : imports()) {
            Class<?> type = Class.forName(name);
            assertThat(Modifier.isPublic(type.getModifiers())).as("%s is public", name).isTrue();
            assertThat(Modifier.isFinal(type.getModifiers())).as("%s is final", name).isTrue();
            assertThat(type.isAnnotationPresent(AutoConfiguration.class)).as("%s is an @AutoConfiguration", name)
                    .isTrue();
        }
    }

    private static List<String> imports() throws IOException {
        try (InputStream in = AutoConfigurationImportsTests.class.getClassLoader().getResourceAsStream(IMPORTS)) {
            assertThat(in).as(IMPORTS).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .map(String::strip)
                    .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                    .toList();
        }
    }
}
