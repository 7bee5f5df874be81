package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.test.ConcurrentHarness;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import io.microio.test.Worker;
import org.junit.jupiter.api.Test;

/** The channel contract on an unbounded channel, and what only an unbounded channel can show. */
class UnboundedChannelTest extends ChannelConformanceTest {
    @Override
    Channel.Builder<Object> builder() {
        return Channel.builder();
    }

    /**
     * A backlog spanning hundreds of chunks, sent by several threads while nobody receives, then taken
     * half, then added to while it is taken: every item once, in each sender's order, across every chunk
     * boundary, and the counters agree.
     */
    @Test
    void backlogAcrossManyChunksKeepsEachSendersOrder() throws Exception {
        Channel<long[]> ch = newChannel();
        int senders = 4;
        int perRound = 10_000; // per sender and round: 40,000 items, 625 chunks of 64
        long[] next = new long[senders];
        ConcurrentHarness.run(senders, id -> {
            for (int i = 0; i < perRound; i++) {
                ch.trySend(new long[] {id, i});
            }
        });
        long[] expected = new long[senders];
        for (int n = 0; n < senders * perRound / 2; n++) {
            take(ch, expected);
        }
        ConcurrentHarness.run(senders + 1, id -> {
            if (id == senders) { // the receiver, moving through chunks while senders walk to new ones
                for (int n = 0; n < senders * perRound; n++) {
                    take(ch, expected);
                }
            } else {
                for (int i = perRound; i < 2 * perRound; i++) {
                    ch.trySend(new long[] {id, i});
                }
            }
        });
        for (int n = 0; n < senders * perRound / 2; n++) {
            take(ch, expected);
        }
        Arrays.fill(next, 2L * perRound);
        assertThat(expected).containsExactly(next);
        assertThat(ch.poll()).isEmpty();
        long total = 2L * senders * perRound;
        assertThat(ch.stats()).isEqualTo(new ChannelStats(total, total, 0, 0, false));
    }

    /**
     * An armed wake-up (a dispatcher waiting without a thread) runs once, on the thread of the first send
     * or close after it was armed; it stays armed until then; arming with an item available withdraws it
     * and says so; while it is armed no other receiver may wait.
     */
    @Test
    void armedWakeupRunsOnceOnTheFirstSendOrClose() throws Exception {
        MpscChannel<String> ch = (MpscChannel<String>) Channel.builder().name("mbox").<String>build();
        List<Thread> wokenOn = new CopyOnWriteArrayList<>();
        ArmedWakeup armed = new ArmedWakeup(() -> wokenOn.add(Thread.currentThread()));
        assertThat(ch.armWakeup(armed)).isTrue();
        assertThat(ch.isArmed(armed)).isTrue();
        assertThat(ch.armWakeup(armed)).as("still armed").isTrue();
        assertThat(ArmedWakeup.arms(armed)).isEqualTo(1);
        assertThatThrownBy(ch::receiveAsync).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("an actor is waiting to receive");
        assertThat(wokenOn).isEmpty();

        Worker.start("sender", () -> ch.send("a") && ch.send("b")).join();
        assertThat(wokenOn).hasSize(1);
        assertThat(wokenOn.get(0).getName()).startsWith("sender");
        assertThat(ch.isArmed(armed)).isFalse();

        assertThat(ch.armWakeup(armed)).as("items available: withdrawn").isFalse();
        assertThat(ch.isArmed(armed)).isFalse();
        assertThat(ArmedWakeup.arms(armed)).isEqualTo(2);
        assertThat(ch.drain(10)).containsExactly("a", "b");

        assertThat(ch.armWakeup(armed)).isTrue();
        assertThat(ArmedWakeup.arms(armed)).isEqualTo(3);
        ch.close();
        assertThat(wokenOn).hasSize(2);
        assertThat(ch.isArmed(armed)).isFalse();
    }

    private static void take(Channel<long[]> ch, long[] expected) throws InterruptedException {
        long[] item = ch.receive();
        assertThat(item[1]).as("sender %d", item[0]).isEqualTo(expected[(int) item[0]]);
        expected[(int) item[0]]++;
    }
}
