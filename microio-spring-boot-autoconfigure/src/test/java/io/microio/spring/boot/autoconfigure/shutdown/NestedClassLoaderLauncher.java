package io.microio.spring.boot.autoconfigure.shutdown;

import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Runs a main class as a Spring Boot executable jar does: the application and its libraries, from
 * the system property {@value #CLASS_PATH}, in a class loader of their own, which the system class
 * loader (holding only this launcher) cannot see. Arguments: the main class, then its arguments.
 */
public final class NestedClassLoaderLauncher {

    static final String CLASS_PATH = "test.app.class-path";

    private NestedClassLoaderLauncher() {}

    public static void main(String[] args) throws Throwable {
        String[] entries = Objects.requireNonNull(System.getProperty(CLASS_PATH), CLASS_PATH).split(File.pathSeparator);
        URL[] urls = new URL[entries.length];
        for (int i = 0; i < entries.length; i++) {
            urls[i] = url(entries[i]);
        }
        ClassLoader loader = new URLClassLoader("app", urls, ClassLoader.getPlatformClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        Class<?> main = Class.forName(args[0], true, loader);
        try {
            main.getMethod("main", String[].class).invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static URL url(String entry) throws MalformedURLException {
        return Path.of(entry).toUri().toURL();
    }
}
