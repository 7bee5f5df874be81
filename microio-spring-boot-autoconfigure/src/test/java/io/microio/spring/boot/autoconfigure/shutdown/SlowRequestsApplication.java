package io.microio.spring.boot.autoconfigure.shutdown;

import io.microio.CancelScope;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * A web application whose requests block in a microio wait: run as a separate JVM by
 * {@link WebDrainProcessTests}. {@code GET /wait} sleeps 20 s in {@link CancelScope#sleep(Duration)};
 * {@code GET /quick?millis=N} sleeps N ms. Each prints a line when it enters, and the application
 * prints its port once the web server listens.
 */
@SpringBootConfiguration(proxyBeanMethods = false)
@EnableAutoConfiguration
public class SlowRequestsApplication {

    /** Printed with the port once the web server listens. */
    static final String LISTENING = "test application listening on port ";

    /** Printed, with the count so far, as each {@code /wait} request enters its handler. */
    static final String WAITING = "requests waiting: ";

    /** Printed as a {@code /quick} request enters its handler. */
    static final String QUICK = "quick request entered";

    @Bean
    ApplicationListener<WebServerInitializedEvent> portPrinter() {
        return event -> System.out.println(LISTENING + event.getWebServer().getPort());
    }

    /** A bean as a member class of the configuration. */
    @RestController
    static class SlowController {
        private final AtomicInteger waiting = new AtomicInteger();

        @GetMapping("/wait")
        String waitLong() throws InterruptedException {
            System.out.println(WAITING + waiting.incrementAndGet());
            CancelScope.sleep(Duration.ofSeconds(20));
            return "woke after 20s";
        }

        @GetMapping("/quick")
        String quick(@RequestParam long millis) throws InterruptedException {
            System.out.println(QUICK);
            CancelScope.sleep(Duration.ofMillis(millis));
            return "done";
        }
    }

    public static void main(String[] args) {
        SpringApplication.run(SlowRequestsApplication.class, args);
    }
}
