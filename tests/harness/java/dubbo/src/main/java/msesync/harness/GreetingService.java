package msesync.harness;

/** The one RPC interface of the harness: what the provider exports and the consumer calls. */
public interface GreetingService {
    String greet(String name);
}
