package msesync.testbed.nacos;

import com.alibaba.nacos.NacosServerBasicApplication;
import com.alibaba.nacos.NacosServerWebApplication;
import com.alibaba.nacos.console.NacosConsole;
import com.alibaba.nacos.core.listener.startup.NacosStartUp;
import com.alibaba.nacos.core.listener.startup.NacosStartUpManager;
import com.alibaba.nacos.sys.env.DeploymentType;
import com.alibaba.nacos.sys.env.EnvUtil;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts a standalone Nacos 3.x server the way upstream's NacosBootstrap does in its default
 * "merged" deployment: a non-web core context, then as its children the server web context
 * (client/admin HTTP API, gRPC) and the console context (console API on its own port, UI off).
 * Settings: src/main/resources/application.properties; data under -Dnacos.home.
 */
public final class NacosTestbed {

    private NacosTestbed() {
    }

    public static void main(String[] args) {
        // Both are read from system properties only, not from application.properties.
        System.setProperty("nacos.standalone", System.getProperty("nacos.standalone", "true"));
        System.setProperty("nacos.deployment.type", "merged");
        EnvUtil.setDeploymentType(DeploymentType.MERGED);

        NacosStartUpManager.start(NacosStartUp.CORE_START_UP_PHASE);
        ConfigurableApplicationContext core = new SpringApplicationBuilder(NacosServerBasicApplication.class)
                .web(WebApplicationType.NONE)
                .run(args);
        NacosStartUpManager.start(NacosStartUp.WEB_START_UP_PHASE);
        new SpringApplicationBuilder(NacosServerWebApplication.class).parent(core).run(args);
        NacosStartUpManager.start(NacosStartUp.CONSOLE_START_UP_PHASE);
        new SpringApplicationBuilder(NacosConsole.class).parent(core).run(args);
    }
}
