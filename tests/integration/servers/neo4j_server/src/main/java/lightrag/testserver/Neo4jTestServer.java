package lightrag.testserver;

import java.nio.file.Path;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Neo4j Community, embedded, with Bolt on 127.0.0.1 and authentication on.
 *
 * <p>Arguments: data directory, Bolt port, user. The user's password comes from the
 * environment (NEO4J_TEST_PASSWORD), not the command line. Prints NEO4J_READY when the
 * default database answers; a shutdown hook stops the DBMS on SIGTERM.
 */
public final class Neo4jTestServer {
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]).toAbsolutePath().normalize();
    int port = Integer.parseInt(args[1]);
    String user = args[2];
    String password = System.getenv("NEO4J_TEST_PASSWORD");
    if (password == null || password.length() < 8) {
      throw new IllegalArgumentException("set NEO4J_TEST_PASSWORD (8 characters or more)");
    }
    var dbms = new DatabaseManagementServiceBuilder(dir)
        .setConfig(BoltConnector.enabled, true)
        .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
        .setConfig(HttpConnector.enabled, false)
        .setConfig(GraphDatabaseSettings.auth_enabled, true)
        .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(256))
        .build();
    Runtime.getRuntime().addShutdownHook(new Thread(dbms::shutdown));
    var system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
    system.executeTransactionally(
        "CREATE USER $user IF NOT EXISTS SET PLAINTEXT PASSWORD $password CHANGE NOT REQUIRED",
        java.util.Map.of("user", user, "password", password));
    dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally("RETURN 1");
    System.out.println("NEO4J_READY bolt://127.0.0.1:" + port);
    System.out.flush();
    Thread.currentThread().join();
  }
}
