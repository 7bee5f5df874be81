package io.microio.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;
import sun.misc.Signal;

/** The sample application: a counter server and an HTTP gateway to it. */
@SpringBootApplication
public class SampleApplication {

    /**
     * Runs the application.
     *
     * @param args command line arguments, such as {@code --server.port=8080}
     */
    public static void main(String[] args) {
        ConfigurableApplicationContext context = SpringApplication.run(SampleApplication.class, args);
        exitCleanlyOnTerm(context);
    }

    /**
     * Makes SIGTERM a requested, orderly stop: the context is closed (graceful HTTP drain, then the
     * microio services stop and are joined) and the process exits with the status Spring Boot reports
     * for that close, 0 when it went well. Without this the JVM would run the same shutdown from its
     * hook but exit with 143 (128 + SIGTERM), which process supervisors count as a failure.
     */
    private static void exitCleanlyOnTerm(ConfigurableApplicationContext context) {
        Signal.handle(new Signal("TERM"), signal -> System.exit(SpringApplication.exit(context)));
    }
}
