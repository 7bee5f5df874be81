package io.microio.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.Service;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.RuntimeHintsRegistrar;
import org.springframework.aot.hint.predicate.RuntimeHintsPredicates;
import org.springframework.asm.ClassReader;
import org.springframework.asm.ClassVisitor;
import org.springframework.asm.MethodVisitor;
import org.springframework.asm.Opcodes;
import org.springframework.asm.Type;
import org.springframework.core.io.support.SpringFactoriesLoader;

/**
 * {@link MicroioRuntimeHints}: the reflection that a native image must know of ahead of time.
 */
class MicroioRuntimeHintsTests {

    /** Every field that microio-core looks up with {@code findVarHandle} is registered for reflection. */
    @Test
    void hintsWhenRegisteredShouldCoverEveryFieldTheCoreLooksUpForAVarHandle() throws Exception {
        RuntimeHints hints = new RuntimeHints();
        new MicroioRuntimeHints().registerHints(hints, getClass().getClassLoader());

        List<String[]> lookups = varHandleLookupsOfTheCore();

        assertThat(lookups).as("findVarHandle calls found in microio-core").hasSizeGreaterThan(20);
        for (String[] lookup : lookups) {
            assertThat(RuntimeHintsPredicates.reflection().onFieldAccess(lookup[0], lookup[1]))
                    .as("field %s.%s", lookup[0], lookup[1]).accepts(hints);
        }
    }

    /** Spring's AOT processing finds the registrar through {@code META-INF/spring/aot.factories}. */
    @Test
    void registrarWhenAotFactoriesAreLoadedShouldBeListed() {
        List<RuntimeHintsRegistrar> registrars = SpringFactoriesLoader.forResourceLocation("META-INF/spring/aot.factories")
                .load(RuntimeHintsRegistrar.class);
        assertThat(registrars).hasAtLeastOneElementOfType(MicroioRuntimeHints.class);
    }

    /**
     * {@return the (class name, field name) of every {@code findVarHandle} call in microio-core's classes}
     * The owner class and the field name are the constants loaded right before the call, as
     * {@code lookup.findVarHandle(Owner.class, "field", Type.class)} compiles.
     */
    private static List<String[]> varHandleLookupsOfTheCore() throws IOException, URISyntaxException {
        Path core = Path.of(Service.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String[]> lookups = new ArrayList<>();
        if (Files.isDirectory(core)) {
            try (Stream<Path> files = Files.walk(core)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                    try (InputStream in = Files.newInputStream(file)) {
                        scan(in, lookups);
                    }
                }
            }
        } else {
            try (JarFile jar = new JarFile(core.toFile())) {
                for (JarEntry entry : jar.stream().filter(e -> e.getName().endsWith(".class")).toList()) {
                    try (InputStream in = jar.getInputStream(entry)) {
                        scan(in, lookups);
                    }
                }
            }
        }
        return lookups;
    }

    private static void scan(InputStream classFile, List<String[]> into) {
        ClassReader reader;
        try {
            reader = new ClassReader(classFile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        reader.accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                    String[] exceptions) {
                return new MethodVisitor(Opcodes.ASM9) {
                    private String owner; // the last class constant loaded before a string constant
                    private String field; // the string constant loaded after it

                    @Override
                    public void visitLdcInsn(Object value) {
                        if (value instanceof Type type && field == null) {
                            owner = type.getClassName();
                        } else if (value instanceof String string && owner != null) {
                            field = string;
                        }
                    }

                    @Override
                    public void visitMethodInsn(int opcode, String methodOwner, String methodName, String methodDescriptor,
                            boolean isInterface) {
                        if (methodOwner.equals("java/lang/invoke/MethodHandles$Lookup")
                                && methodName.equals("findVarHandle")) {
                            assertThat(owner).as("the owner class of a findVarHandle call").isNotNull();
                            assertThat(field).as("the field name of a findVarHandle call").isNotNull();
                            into.add(new String[] { owner, field });
                        }
                        owner = null;
                        field = null;
                    }
                };
            }
        }, ClassReader.SKIP_DEBUG);
    }
}
