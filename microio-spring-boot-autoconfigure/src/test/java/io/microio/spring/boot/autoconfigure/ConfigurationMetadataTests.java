package io.microio.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import java.beans.Introspector;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The configuration metadata written at build time by the Spring Boot annotation processors.
 */
class ConfigurationMetadataTests {

    private static final List<String> CONDITION_ONLY_KEYS =
            List.of("management.health.microio.enabled", "management.metrics.enable.microio");

    /** Every key that {@link MicroioProperties} binds is in the metadata, with a description. */
    @Test
    void metadataWhenGeneratedShouldDescribeEveryBoundKey() throws IOException {
        Map<String, Map<String, Object>> properties = propertiesByName();

        List<String> bound = new ArrayList<>();
        collectKeys("microio", MicroioProperties.class, bound);

        assertThat(bound).contains("microio.startup.timeout", "microio.shutdown.timeout");
        assertThat(properties.keySet()).containsAll(bound);
        for (String key : bound) {
            assertThat(properties.get(key).get("description"))
                    .as("description of %s", key)
                    .asString()
                    .isNotBlank()
                    .doesNotStartWith("The ")
                    .doesNotStartWith("A ");
        }
    }

    /** Keys read only by conditions come from the additional metadata file, with a description. */
    @Test
    void metadataWhenKeyIsConditionOnlyShouldListItWithDescription() throws IOException {
        Map<String, Map<String, Object>> properties = propertiesByName();

        for (String key : CONDITION_ONLY_KEYS) {
            assertThat(properties).containsKey(key);
            assertThat(properties.get(key).get("description")).asString().isNotBlank();
        }
    }

    /** The auto-configuration processor ran: its metadata names our auto-configurations and their conditions. */
    @Test
    void autoConfigurationMetadataWhenGeneratedShouldListConditions() throws IOException {
        java.util.Properties metadata = new java.util.Properties();
        try (InputStream in = resource("META-INF/spring-autoconfigure-metadata.properties")) {
            metadata.load(in);
        }

        assertThat(metadata).containsKey(MicroioAutoConfiguration.class.getName());
        assertThat(metadata.stringPropertyNames())
                .anyMatch(k -> k.endsWith("MicroioMetricsAutoConfiguration.ConditionalOnClass"));
    }

    private static Map<String, Map<String, Object>> propertiesByName() throws IOException {
        DocumentContext json;
        try (InputStream in = resource("META-INF/spring-configuration-metadata.json")) {
            json = JsonPath.parse(in);
        }
        List<Map<String, Object>> list = json.read("$.properties[*]");
        Map<String, Map<String, Object>> byName = new java.util.LinkedHashMap<>();
        for (Map<String, Object> p : list) {
            byName.put((String) p.get("name"), p);
        }
        return byName;
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = MicroioProperties.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IOException(name + " is not on the class path: did the annotation processors run?");
        }
        return in;
    }

    /** Walks the getters of a properties class: a nested group is a getter without a setter. */
    private static void collectKeys(String prefix, Class<?> type, List<String> keys) {
        TreeSet<String> seen = new TreeSet<>();
        for (Method getter : type.getMethods()) {
            if (getter.getDeclaringClass() == Object.class || getter.getParameterCount() != 0
                    || Modifier.isStatic(getter.getModifiers())) {
                continue;
            }
            String name = getter.getName();
            String bean;
            if (name.startsWith("get")) {
                bean = name.substring(3);
            } else if (name.startsWith("is")) {
                bean = name.substring(2);
            } else {
                continue;
            }
            String key = prefix + "." + kebab(Introspector.decapitalize(bean));
            if (!seen.add(key)) {
                continue;
            }
            if (hasSetter(type, bean, getter.getReturnType())) {
                keys.add(key);
            } else if (getter.getReturnType().getName().startsWith(MicroioProperties.class.getName())) {
                collectKeys(key, getter.getReturnType(), keys);
            }
        }
    }

    private static boolean hasSetter(Class<?> type, String bean, Class<?> valueType) {
        try {
            type.getMethod("set" + bean, valueType);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

}
