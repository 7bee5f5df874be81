package io.microio.sample;

/**
 * The body of a successful counter response: {@code {"value": 42}}.
 *
 * @param value the counter's value
 */
public record CounterValue(long value) {}
