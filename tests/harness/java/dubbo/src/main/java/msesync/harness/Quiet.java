package msesync.harness;

/** Settings both mains apply before touching Dubbo: quiet logs, no QoS port, no stray files. */
final class Quiet {
    private Quiet() {}

    static void apply() {
        // Dubbo logs through slf4j (slf4j-simple at WARN, see simplelogger.properties).
        System.setProperty("dubbo.application.logger", "slf4j");
        // The Nacos client must not install its own logback/log4j2 configuration.
        System.setProperty("nacos.logging.default.config.enabled", "false");
        // No QoS telnet server: parallel harness processes would fight over port 22222.
        System.setProperty("dubbo.application.qos-enable", "false");
    }
}
