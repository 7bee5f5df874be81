/**
 * jcstress tests for the races microio claims to have closed.
 *
 * <p>Every test is paired with a canary: a deliberately broken copy of the same pattern, run in the
 * same way, which must be seen to fail. A canary that passes means the run could not have caught
 * the bug the real test looks for (too few samples, no real concurrency, a harness mistake), so the
 * build fails then too. {@link io.microio.stress.StressSuite} lists the pairs;
 * {@link io.microio.stress.StressCheck} enforces all of this on the results of a run.
 */
package io.microio.stress;
