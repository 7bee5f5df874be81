package io.microio.spring.boot.autoconfigure;

import io.microio.Service;
import io.microio.ServiceThread;

/**
 * Where a member of a service group comes from: a {@link Service} bean, used as it is, or a
 * {@link ServiceThread.Body} bean, from which a fresh {@link ServiceThread} can be made for each run.
 */
sealed interface GroupMember {

    /** {@return the name of the bean the member comes from} */
    String beanName();

    /** {@return the service's name} */
    String serviceName();

    /** {@return whether {@link #newService(boolean, boolean)} can make a service more than once} */
    boolean renewable();

    /**
     * {@return the service for one run of the group}
     *
     * @param first whether this is the group's first run
     * @param daemon whether a service made here runs on a daemon platform thread (a {@code Service} bean
     *     has its own thread, and a virtual thread is always a daemon)
     * @throws IllegalStateException if the member is not {@link #renewable()} and this is not the first run
     */
    Service newService(boolean first, boolean daemon);

    /** A {@link Service} bean; it runs once. */
    record ServiceBean(String beanName, Service service) implements GroupMember {
        @Override
        public String serviceName() {
            return service.name();
        }

        @Override
        public boolean renewable() {
            return false;
        }

        @Override
        public Service newService(boolean first, boolean daemon) {
            if (!first) {
                throw new IllegalStateException("service '" + service.name() + "' (bean '" + beanName
                        + "') has run once and cannot run again: a Service bean runs once; declare it as a"
                        + " @MicroioService ServiceThread.Body bean to let its group start it again");
            }
            return service;
        }
    }

    /** A {@link ServiceThread.Body} bean; each run gets a new thread. */
    record BodyBean(String beanName, String serviceName, boolean virtual, ServiceThread.Body body)
            implements GroupMember {
        @Override
        public boolean renewable() {
            return true;
        }

        @Override
        public Service newService(boolean first, boolean daemon) {
            return ServiceThread.builder(serviceName).virtual(virtual).daemon(daemon).build(body);
        }
    }
}
