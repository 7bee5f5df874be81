package io.microio.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The sample application: a counter server and an HTTP gateway to it. */
@SpringBootApplication
public class SampleApplication {

    /**
     * Runs the application.
     *
     * @param args command line arguments, such as {@code --server.port=8080}
     */
    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }
}
