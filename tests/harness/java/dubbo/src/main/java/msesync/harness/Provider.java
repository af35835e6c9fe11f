package msesync.harness;

import java.util.Map;

import org.apache.dubbo.common.URL;
import org.apache.dubbo.common.utils.NetUtils;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.ServiceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;

/**
 * A Dubbo provider of {@link GreetingService} on the dubbo protocol, registered ONLY in ZooKeeper
 * and only at interface level (/dubbo/msesync.harness.GreetingService/providers/...).
 *
 * <p>Arguments (all optional): --port 20880 --host (the first non-loopback address; Dubbo
 * refuses to register 127.x) --zk 127.0.0.1:12181 --session-ms 10000
 * --version 1.0.0 --group "" --app msesync-harness-provider. Prints "READY ..." once exported,
 * then runs until killed; SIGTERM unregisters (Dubbo's shutdown hook).
 */
public final class Provider {
    private Provider() {}

    static final class Greeter implements GreetingService {
        private final int port;

        Greeter(int port) {
            this.port = port;
        }

        @Override
        public String greet(String name) {
            return "hello " + name + " from " + port;
        }
    }

    public static void main(String[] argv) throws Exception {
        Quiet.apply();
        Args args = new Args(argv);
        int port = args.getInt("port", 20880);
        // Dubbo never registers a 127.x address: by default it registers the first non-loopback
        // address of the machine. Bind only that address (not 0.0.0.0) unless told otherwise.
        String host = args.get("host", NetUtils.getLocalHost());
        String zk = args.get("zk", "127.0.0.1:12181");
        String version = args.get("version", "1.0.0");
        String group = args.get("group", "");

        ApplicationConfig application = new ApplicationConfig(args.get("app", "msesync-harness-provider"));
        application.setQosEnable(false);
        application.setRegisterMode("interface"); // no application-level entries under /services
        application.setLogger("slf4j");

        // --registry replaces the whole registry URL (e.g. nacos://127.0.0.1:18848 to see what
        // Dubbo itself writes into Nacos); the harness's purpose is the ZooKeeper default.
        RegistryConfig registry = new RegistryConfig(args.get("registry", "zookeeper://" + zk));
        // ZooKeeper session timeout, so a SIGKILLed provider's node goes away soon. A parameter,
        // not setSession(): Dubbo shares one ZooKeeper client between the registry and the config
        // center it derives from it, and that one is created first, from the parameters only.
        registry.setParameters(Map.of("session", String.valueOf(args.getInt("session-ms", 10000))));

        ProtocolConfig protocol = new ProtocolConfig("dubbo", port);
        protocol.setHost(host);

        ServiceConfig<GreetingService> service = new ServiceConfig<>();
        service.setInterface(GreetingService.class);
        service.setRef(new Greeter(port));
        service.setVersion(version);
        if (!group.isEmpty()) {
            service.setGroup(group);
        }

        DubboBootstrap bootstrap = DubboBootstrap.getInstance()
                .application(application)
                .registry(registry)
                .protocol(protocol)
                .service(service)
                .start();
        for (URL url : service.getExportedUrls()) {
            System.out.println("EXPORTED " + url.toFullString());
        }
        System.out.println("READY provider " + host + ":" + port + " " + GreetingService.class.getName()
                + " version=" + version + " group=" + group);
        System.out.flush();
        bootstrap.await();
    }
}
