// Readiness probe for the local Kafka broker, used by infra/local/up.sh only when
// no Python with kafka-python is available. Run with the Java source launcher:
//   java -cp "<kafka-jars>/*" KafkaReady.java <bootstrap> <timeout-ms>
// Exit 0 when a real AdminClient sees at least one live broker and can list
// topics; exit 1 otherwise (single attempt, bounded by timeout-ms).
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;

public class KafkaReady {
    public static void main(String[] args) {
        String bootstrap = args[0];
        int timeoutMs = Integer.parseInt(args[1]);
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
        try (Admin admin = Admin.create(props)) {
            int brokers = admin.describeCluster(new DescribeClusterOptions().timeoutMs(timeoutMs))
                    .nodes().get(timeoutMs, TimeUnit.MILLISECONDS).size();
            admin.listTopics(new ListTopicsOptions().timeoutMs(timeoutMs).listInternal(true))
                    .names().get(timeoutMs, TimeUnit.MILLISECONDS);
            if (brokers < 1) {
                System.err.println("KafkaReady: no live broker yet");
                System.exit(1);
            }
            System.exit(0);
        } catch (Exception e) {
            System.err.println("KafkaReady: not ready: " + e);
            System.exit(1);
        }
    }
}
