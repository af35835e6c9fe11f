package testbed.eureka1;

import java.net.URL;
import java.security.CodeSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.actuate.info.InfoContributor;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cloud.netflix.eureka.server.EnableEurekaServer;
import org.springframework.cloud.netflix.eureka.server.event.EurekaServerStartedEvent;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/** A plain Spring Cloud Netflix Eureka 1.x server for the msesync test bed. */
@SpringBootApplication
@EnableEurekaServer
public class Eureka1TestServer {

	/** Set by the test bed's class-archive training run: start, then exit (Spring 6.1 has this
	 * built in as spring.context.exit=onRefresh; Spring 5.3 does not, so the harness does it). */
	private static final String TRAINING = "testbed.train";

	private static final CountDownLatch STARTED = new CountDownLatch(1);

	private static final Pattern JAR_VERSION = Pattern.compile("-(\\d[\\w.]*)\\.jar$");

	public static void main(String[] args) throws InterruptedException {
		ConfigurableApplicationContext context = SpringApplication.run(Eureka1TestServer.class, args);
		if (Boolean.getBoolean(TRAINING)) {
			STARTED.await(60, TimeUnit.SECONDS); // the registry starts in its own thread
			System.exit(SpringApplication.exit(context));
		}
	}

	@Bean
	org.springframework.context.ApplicationListener<EurekaServerStartedEvent> startedLatch() {
		return event -> STARTED.countDown();
	}

	/** Reports, at /actuator/info, the versions read from the jars actually loaded. */
	@Bean
	InfoContributor eurekaVersions() {
		return builder -> {
			Map<String, String> versions = new LinkedHashMap<>();
			versions.put("spring-cloud-netflix", implementationVersion(EnableEurekaServer.class));
			versions.put("eureka-core", implementationVersion(com.netflix.eureka.EurekaServerConfig.class));
			versions.put("spring-boot", SpringBootVersion.getVersion());
			builder.withDetail("eureka", versions);
		};
	}

	/** The jar manifest's Implementation-Version, else the version in the jar's file name. */
	private static String implementationVersion(Class<?> type) {
		String version = type.getPackage().getImplementationVersion();
		if (version != null) {
			return version;
		}
		CodeSource source = type.getProtectionDomain().getCodeSource();
		URL location = source != null ? source.getLocation() : null;
		Matcher found = JAR_VERSION.matcher(location != null ? location.getPath() : "");
		return found.find() ? found.group(1) : "unknown";
	}

}
