package io.microio.stress;

import java.util.List;

/**
 * The jcstress tests of this module, declared in one place: every race-test lane is a real test and
 * its canary. The expected number of tests is twice the number of lanes; {@link StressCheck} fails the
 * build when the compiled index, the {@code @JCStressTest} classes or the run's results disagree with
 * this list.
 */
final class StressSuite {
    private StressSuite() {}

    /** A real test and the deliberately broken copy of it that must fail in the same run. */
    record Lane(Class<?> test, Class<?> canary) {}

    /** Every lane. A new {@code @JCStressTest} class goes here, with its canary, or the build fails. */
    static final List<Lane> LANES = List.of(
            new Lane(CloseScopeCloseOnce.class, CloseScopeCloseOnceCanary.class),
            new Lane(CloseScopeCloseVsFail.class, CloseScopeCloseVsFailCanary.class),
            new Lane(CancelScopeCancelVsExit.class, CancelScopeCancelVsExitCanary.class),
            new Lane(CancelScopeCancelWhileBlocked.class, CancelScopeCancelWhileBlockedCanary.class),
            new Lane(CancelScopeExpiredAtEntry.class, CancelScopeExpiredAtEntryCanary.class),
            new Lane(CancelScopeShieldedCancelVsExit.class, CancelScopeShieldedCancelVsExitCanary.class),
            new Lane(ScopeGroupLatchVsEnter.class, ScopeGroupLatchVsEnterCanary.class),
            new Lane(RequestRegistryResolveVsTimeout.class, RequestRegistryResolveVsTimeoutCanary.class),
            new Lane(RequestRegistryResolveVsParkedWaiter.class, RequestRegistryResolveVsParkedWaiterCanary.class),
            new Lane(ChannelSendVsClose.class, ChannelSendVsCloseCanary.class),
            new Lane(ChannelFullSendVsClose.class, ChannelFullSendVsCloseCanary.class),
            new Lane(ChannelCarriedSendVsClose.class, ChannelCarriedSendVsCloseCanary.class),
            new Lane(ChannelIdleSendVsClose.class, ChannelIdleSendVsCloseCanary.class),
            new Lane(ChannelIdleSendVsReceiveAsync.class, ChannelIdleSendVsReceiveAsyncCanary.class),
            new Lane(ChannelIdleSendVsWaitingReceive.class, ChannelIdleSendVsWaitingReceiveCanary.class),
            new Lane(MicroioMetersRegisterSameName.class, MicroioMetersRegisterSameNameCanary.class));

    /** {@return how many jcstress tests a run must report: each lane's test and canary} */
    static int expectedTestCount() {
        return 2 * LANES.size();
    }
}
