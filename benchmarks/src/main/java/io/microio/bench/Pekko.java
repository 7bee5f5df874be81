package io.microio.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;

/** Starting and stopping the Pekko peer: one actor system, dispatcher capped at two threads. */
final class Pekko {
    private static final long TERMINATE_SECONDS = 10;

    /** Two threads at most, the size of this machine; quiet logging. */
    static final Config CONFIG = ConfigFactory.parseString(
                    """
                    pekko {
                      loglevel = "WARNING"
                      stdout-loglevel = "WARNING"
                      log-dead-letters = off
                      log-dead-letters-during-shutdown = off
                      actor.default-dispatcher.fork-join-executor {
                        parallelism-min = 1
                        parallelism-factor = 1.0
                        parallelism-max = 2
                      }
                    }
                    """)
            .withFallback(ConfigFactory.load());

    /** {@link #CONFIG} with the default dispatcher capped at {@code threads} threads. */
    static Config withThreads(int threads) {
        return ConfigFactory.parseString(
                        "pekko.actor.default-dispatcher.fork-join-executor.parallelism-max = " + threads)
                .withFallback(CONFIG);
    }

    private Pekko() {}

    static void terminate(ActorSystem<?> system) {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(TERMINATE_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("actor system did not terminate", e);
        }
    }
}
