package msesync.harness;

import java.util.HashMap;
import java.util.Map;

import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;

/**
 * A Dubbo consumer of {@link GreetingService} that discovers providers ONLY through a Nacos
 * registry, at interface level (Nacos service "providers:&lt;interface&gt;:&lt;version&gt;:&lt;group&gt;").
 *
 * <p>Arguments (all optional): --nacos 127.0.0.1:18848 --namespace public --version 1.0.0
 * --group "" --name msesync --calls 1 --timeout 30 (seconds, for all calls together)
 * --app msesync-harness-consumer. Each call is retried until it succeeds or the deadline passes.
 * Prints "RESULT &lt;reply&gt;" per successful call, then "OK" and exits 0; prints "FAILED ..." and
 * exits 1 when the deadline passes first.
 *
 * <p>--registry replaces the registry URL (e.g. zookeeper://127.0.0.1:12181: a consumer of the
 * old side of a migration). --stay=true: no calls; print "READY consumer" once subscribed and stay
 * subscribed until killed (the subscriber a migration cockpit must see).
 */
public final class Consumer {
    private Consumer() {}

    public static void main(String[] argv) {
        Quiet.apply();
        // Interface-level subscription only: no application-level (service discovery) lookups.
        System.setProperty("dubbo.application.migration.step", "FORCE_INTERFACE");
        int code;
        try {
            code = run(new Args(argv));
        } catch (Throwable error) {
            System.out.println("FAILED " + error);
            code = 2;
        }
        System.out.flush();
        Runtime.getRuntime().halt(code); // don't wait for Dubbo's and Nacos' non-daemon threads
    }

    private static int run(Args args) throws InterruptedException {
        long deadline = System.nanoTime() + (long) (args.getDouble("timeout", 30) * 1e9);
        int calls = args.getInt("calls", 1);
        String name = args.get("name", "msesync");
        String version = args.get("version", "1.0.0");
        String group = args.get("group", "");
        String namespace = args.get("namespace", "public");

        ApplicationConfig application = new ApplicationConfig(args.get("app", "msesync-harness-consumer"));
        application.setQosEnable(false);
        application.setLogger("slf4j");

        String address = args.get("registry", "nacos://" + args.get("nacos", "127.0.0.1:18848"));
        RegistryConfig registry = new RegistryConfig(address);
        Map<String, String> parameters = new HashMap<>();
        if (!namespace.isEmpty() && address.startsWith("nacos://")) {
            parameters.put("namespace", namespace);
        }
        registry.setParameters(parameters);
        // The registry only: no Nacos config center, no metadata center (not needed to call an
        // interface-level provider, and one less thing that can fail or slow the start).
        registry.setUseAsConfigCenter(false);
        registry.setUseAsMetadataCenter(false);

        ReferenceConfig<GreetingService> reference = new ReferenceConfig<>();
        reference.setInterface(GreetingService.class);
        reference.setVersion(version);
        if (!group.isEmpty()) {
            reference.setGroup(group);
        }
        reference.setCheck(false); // start without providers; they may show up later
        reference.setRetries(0);
        reference.setTimeout(3000);

        DubboBootstrap.getInstance()
                .application(application)
                .registry(registry)
                .reference(reference)
                .start();
        GreetingService greeter = reference.get();
        if (Boolean.parseBoolean(args.get("stay", "false"))) {
            System.out.println("READY consumer " + address);
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }

        Throwable last = null;
        for (int done = 0; done < calls; ) {
            try {
                System.out.println("RESULT " + greeter.greet(name));
                System.out.flush();
                done++;
            } catch (RuntimeException error) {
                last = error;
                if (System.nanoTime() > deadline) {
                    System.out.println("FAILED after " + done + " of " + calls + " calls: " + last);
                    return 1;
                }
                Thread.sleep(300);
            }
        }
        System.out.println("OK " + calls + " calls");
        return 0;
    }
}
