/**
 * JMH benchmarks of microio, each paired with the idiom it replaces.
 *
 * <p>Naming convention, read by the report: a benchmark class is named after its family
 * ({@code ChannelBurstCost}); a method (or {@code @Group}) named {@code ours} measures microio and
 * every other method measures a peer ({@code jctools}, {@code arrayBlockingQueue}). A suffix after an
 * underscore is a variant, and {@code ours_x} is compared only with peers ending in {@code _x}. A
 * class whose name ends in {@code Preview} (compiled separately, JDK preview API) adds peers to the
 * family without that suffix. {@code Floors} has no ours side: it fingerprints the machine.
 */
package io.microio.bench;
