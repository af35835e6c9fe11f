package msesync.harness;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.UriSpec;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.springframework.cloud.zookeeper.discovery.ZookeeperInstance;

/**
 * Registers one Curator service-discovery instance exactly as Spring Cloud Zookeeper 4.x does
 * (ZookeeperAutoServiceRegistrationAutoConfiguration + JsonInstanceSerializer of Spring's own
 * ZookeeperInstance payload class), then stays until killed. The znode is ephemeral:
 * /services/&lt;name&gt;/&lt;id&gt;; SIGTERM unregisters at once, SIGKILL after the session timeout.
 *
 * <p>Arguments: --name NAME (required) --port PORT (required) --address 127.0.0.1
 * --zk 127.0.0.1:12181 --base-path /services --id (a random UUID, like Curator's default)
 * --metadata '{"k":"v"}' (JSON object of strings; "instance_status":"UP" is added unless given,
 * as Spring does) --payload-id (the Spring context id; Boot uses spring.application.name, so
 * defaults to NAME) --session-ms 10000. Prints "READY &lt;path&gt; &lt;json&gt;" once registered.
 */
public final class CuratorRegistrar {
    private CuratorRegistrar() {}

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = parse(argv);
        String name = required(args, "name");
        int port = Integer.parseInt(required(args, "port"));
        String address = args.getOrDefault("address", "127.0.0.1");
        String zk = args.getOrDefault("zk", "127.0.0.1:12181");
        String basePath = args.getOrDefault("base-path", "/services");
        String id = args.getOrDefault("id", UUID.randomUUID().toString());
        int sessionMs = Integer.parseInt(args.getOrDefault("session-ms", "10000"));
        Map<String, String> metadata = new LinkedHashMap<>();
        if (args.containsKey("metadata")) {
            metadata.putAll(new ObjectMapper().readValue(args.get("metadata"),
                    new TypeReference<LinkedHashMap<String, String>>() {}));
        }
        metadata.putIfAbsent("instance_status", "UP"); // Spring's StatusConstants.INSTANCE_STATUS_KEY

        ServiceInstance<ZookeeperInstance> instance = ServiceInstance.<ZookeeperInstance>builder()
                .name(name)
                .id(id)
                .address(address)
                .port(port)
                .payload(new ZookeeperInstance(args.getOrDefault("payload-id", name), name, metadata))
                .uriSpec(new UriSpec("{scheme}://{address}:{port}")) // Spring's DEFAULT_URI_SPEC
                .build();

        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(zk)
                .sessionTimeoutMs(sessionMs)
                .connectionTimeoutMs(5000)
                .retryPolicy(new ExponentialBackoffRetry(200, 10, 2000))
                .build();
        client.start();
        JsonInstanceSerializer<ZookeeperInstance> serializer =
                new JsonInstanceSerializer<>(ZookeeperInstance.class); // as Spring builds it
        ServiceDiscovery<ZookeeperInstance> discovery = ServiceDiscoveryBuilder.builder(ZookeeperInstance.class)
                .client(client)
                .basePath(basePath)
                .serializer(serializer)
                .thisInstance(instance)
                .build();
        discovery.start(); // registers thisInstance

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                discovery.close(); // unregisters
                client.close();
            } catch (Exception ignored) {
                // exiting anyway; the session expiry removes the node
            }
            stopped.countDown();
        }));
        String path = basePath.replaceAll("/+$", "") + "/" + name + "/" + id;
        System.out.println("READY " + path + " " + new String(serializer.serialize(instance), "UTF-8"));
        System.out.flush();
        stopped.await();
    }

    private static Map<String, String> parse(String[] argv) {
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < argv.length; i++) {
            String arg = argv[i];
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument: " + arg);
            }
            String body = arg.substring(2);
            int eq = body.indexOf('=');
            if (eq >= 0) {
                values.put(body.substring(0, eq), body.substring(eq + 1));
            } else if (i + 1 < argv.length) {
                values.put(body, argv[++i]);
            } else {
                throw new IllegalArgumentException("missing value for " + arg);
            }
        }
        return values;
    }

    private static String required(Map<String, String> args, String key) {
        String value = args.get(key);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return value;
    }
}
