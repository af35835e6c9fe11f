package testbed.eureka;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.actuate.info.InfoContributor;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cloud.netflix.eureka.server.EnableEurekaServer;
import org.springframework.context.annotation.Bean;

/** A plain Spring Cloud Netflix Eureka server for the msesync test bed. */
@SpringBootApplication
@EnableEurekaServer
public class EurekaTestServer {

	public static void main(String[] args) {
		SpringApplication.run(EurekaTestServer.class, args);
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

	private static String implementationVersion(Class<?> type) {
		String version = type.getPackage().getImplementationVersion();
		return version != null ? version : "unknown";
	}

}
