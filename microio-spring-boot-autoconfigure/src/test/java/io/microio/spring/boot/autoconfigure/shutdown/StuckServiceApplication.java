package io.microio.spring.boot.autoconfigure.shutdown;

import io.microio.ServiceThread;
import io.microio.spring.boot.autoconfigure.MicroioService;
import java.util.concurrent.locks.LockSupport;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * An application whose one service, {@code stuck}, ignores its stop: run as a separate JVM by
 * {@link ShutdownProcessTests}. With {@code --test.close-context=true}, {@code main} closes the context
 * by {@link SpringApplication#exit} once it has started, as {@code /actuator/shutdown} does, and
 * returns without ending the JVM.
 */
@SpringBootConfiguration(proxyBeanMethods = false)
@EnableAutoConfiguration
public class StuckServiceApplication {

    /** Printed by {@code main} once the context is closed and it returns. */
    static final String MAIN_RETURNS = "context closed by SpringApplication.exit; main returns";

    @Bean
    @MicroioService(name = "stuck")
    ServiceThread.Body stuck() {
        return ctx -> {
            ctx.started();
            ignoreTheStop();
        };
    }

    /** Parks for ever, clearing every interrupt: a body that never answers its stop. */
    static void ignoreTheStop() {
        while (true) {
            Thread.interrupted();
            LockSupport.park();
        }
    }

    public static void main(String[] args) {
        ConfigurableApplicationContext context = SpringApplication.run(StuckServiceApplication.class, args);
        if (context.getEnvironment().getProperty("test.close-context", Boolean.class, false)) {
            int code = SpringApplication.exit(context);
            System.out.println(MAIN_RETURNS + " (exit code " + code + ")");
        }
    }
}
