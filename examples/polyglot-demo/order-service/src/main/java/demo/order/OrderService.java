// The demo's order-service: an HTTP service (com.sun.net.httpserver) that creates orders. For
// POST /orders it checks stock at the inventory-service (Python) and authorizes the payment at
// the payment-service (Erlang) over HTTP, stores the order in an embedded H2 database and
// publishes `order.created` to Kafka; GET /orders/{id} reads an order back.
//
// Tracing: the polytrace Java binding is the OpenTelemetry API implementation (configured by the
// OTEL_* environment), under OpenTelemetry's own library instrumentations — okhttp-3.0 (CLIENT
// spans of the calls, traceparent injected), jdbc (database CLIENT spans with the db.* semantic-
// convention attributes) and kafka-clients-2.6 (the PRODUCER span, its context in the record's
// traceparent/tracestate headers) — plus spans of its own: the SERVER span of each request (the
// caller's context extracted with the binding's propagator; the registry here serves no
// java-http-server instrumentation at the pinned version) and createOrder. Log lines carry
// trace_id/span_id through the Logback MDC instrumentation.
//
// Environment: PORT (default 0: a free port), INVENTORY_URL, PAYMENT_URL, KAFKA_BOOTSTRAP,
// ORDER_TOPIC (default order.created). Prints `order-service listening on 127.0.0.1:PORT`.
package demo.order;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.instrumentation.jdbc.datasource.JdbcTelemetry;
import io.opentelemetry.instrumentation.kafkaclients.v2_6.KafkaTelemetry;
import io.opentelemetry.instrumentation.okhttp.v3_0.OkHttpTelemetry;
import io.polytrace.Polytrace;
import io.polytrace.PolytraceSdk;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import okhttp3.Call;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.h2.jdbcx.JdbcDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public final class OrderService {
  private static final Logger LOG = LoggerFactory.getLogger("order-service");
  private static final AttributeKey<String> ORDER_ID = AttributeKey.stringKey("app.order.id");
  private static final AttributeKey<String> SKU = AttributeKey.stringKey("app.order.sku");
  private static final AttributeKey<Long> QUANTITY = AttributeKey.longKey("app.order.quantity");
  private static final MediaType JSON = MediaType.get("application/json");

  /** An HTTP answer: status and body. */
  record Answer(int status, String body) {}

  @SuppressWarnings("deprecation") // keys(): required by the interface, unused by W3C extract
  static final TextMapGetter<Headers> HEADERS =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers h) {
          return h.keySet();
        }

        @Override
        public String get(Headers h, String key) {
          return h == null ? null : h.getFirst(key);
        }
      };

  /** A downstream service said no: the order is refused with that service's status. */
  static final class OrderRefused extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;

    OrderRefused(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  private final Tracer tracer;
  private final TextMapPropagator propagator;
  private final Call.Factory http;
  private final DataSource db;
  private final Producer<String, String> producer;
  private final ExecutorService publisher = Executors.newSingleThreadExecutor();
  private final String inventoryUrl;
  private final String paymentUrl;
  private final String topic;

  OrderService(PolytraceSdk sdk) throws SQLException {
    this.tracer = sdk.getTracer("demo.order-service", "0.1.0");
    this.propagator = sdk.getPropagators().getTextMapPropagator();
    this.http =
        OkHttpTelemetry.create(sdk)
            .createCallFactory(
                new OkHttpClient.Builder()
                    .connectTimeout(Duration.ofSeconds(5))
                    .readTimeout(Duration.ofSeconds(30))
                    .build());
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL("jdbc:h2:mem:orders;DB_CLOSE_DELAY=-1");
    // The schema is made before tracing wraps the data source: no startup trace.
    try (Connection c = h2.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE orders (id VARCHAR(36) PRIMARY KEY, sku VARCHAR(64) NOT NULL,"
              + " quantity INT NOT NULL, status VARCHAR(16) NOT NULL)");
    }
    this.db = JdbcTelemetry.create(sdk).wrap(h2);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, env("KAFKA_BOOTSTRAP", "127.0.0.1:9092"));
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "order-service");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    // A broker that is down for a while (the demo's test stops it) delays delivery, not loses it.
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
    p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
    KafkaProducer<String, String> raw =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    this.producer = KafkaTelemetry.create(sdk).wrap(raw);
    this.inventoryUrl = env("INVENTORY_URL", "http://127.0.0.1:5001");
    this.paymentUrl = env("PAYMENT_URL", "http://127.0.0.1:5002");
    this.topic = env("ORDER_TOPIC", "order.created");
  }

  static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isEmpty() ? fallback : v;
  }

  static String field(String json, String name) {
    Matcher m =
        Pattern.compile("\"" + name + "\"\\s*:\\s*(\"([^\"]*)\"|(-?\\d+))").matcher(json);
    if (!m.find()) {
      return null;
    }
    return m.group(2) != null ? m.group(2) : m.group(3);
  }

  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** createOrder: stock, payment, database, event. Returns the order's JSON. */
  String createOrder(String sku, long quantity, String card)
      throws OrderRefused, IOException, SQLException {
    Span span = tracer.spanBuilder("createOrder").startSpan();
    try (Scope ignored = span.makeCurrent()) {
      String id = UUID.randomUUID().toString();
      span.setAttribute(ORDER_ID, id);
      span.setAttribute(SKU, sku);
      span.setAttribute(QUANTITY, quantity);
      LOG.info("creating order {}: {} x {}", id, quantity, sku);
      String item = "{\"sku\":" + quote(sku) + ",\"quantity\":" + quantity + "}";
      Answer stock = post(inventoryUrl + "/inventory/check", item);
      if (stock.status() != 200) {
        String why = field(stock.body(), "error");
        throw new OrderRefused(stock.status(), "inventory: " + (why == null ? stock.body() : why));
      }
      String amount = field(stock.body(), "amount_cents");
      String charge =
          "{\"order_id\":"
              + quote(id)
              + ",\"amount_cents\":"
              + (amount == null ? "0" : amount)
              + ",\"card\":"
              + quote(card)
              + "}";
      Answer paid = post(paymentUrl + "/api/payment:authorize", charge);
      if (paid.status() != 200) {
        throw new OrderRefused(paid.status(), "payment: " + paid.body().strip());
      }
      try (Connection c = db.getConnection();
          PreparedStatement s =
              c.prepareStatement(
                  "INSERT INTO orders (id, sku, quantity, status) VALUES (?, ?, ?, ?)")) {
        s.setString(1, id);
        s.setString(2, sku);
        s.setLong(3, quantity);
        s.setString(4, "CREATED");
        s.executeUpdate();
      }
      String event =
          "{\"order_id\":"
              + quote(id)
              + ",\"sku\":"
              + quote(sku)
              + ",\"quantity\":"
              + quantity
              + ",\"device\":"
              + quote("device-" + card.substring(Math.max(0, card.length() - 4)))
              + "}";
      // Published from a thread of its own, in order, with this span's context: a broker that is
      // down delays the event (send() waits for metadata, the producer retries) but not the
      // answer. The PRODUCER span starts at send() and ends when the broker acknowledges.
      ProducerRecord<String, String> record = new ProducerRecord<>(topic, id, event);
      Runnable publish =
          () ->
              producer.send(
                  record,
                  (meta, error) -> {
                    if (error != null) {
                      LOG.error("order.created for {} not delivered: {}", id, error.toString());
                    } else {
                      LOG.info("order.created for {} at offset {}", id, meta.offset());
                    }
                  });
      publisher.execute(Context.current().wrap(publish));
      LOG.info("order {} created", id);
      return "{\"order_id\":" + quote(id) + ",\"status\":\"CREATED\"}";
    } catch (OrderRefused | IOException | SQLException e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, e.getMessage());
      LOG.warn("order refused: {}", e.getMessage());
      throw e;
    } finally {
      span.end();
    }
  }

  /** A call through the instrumented OkHttp client: a CLIENT span, traceparent injected. */
  Answer post(String url, String json) throws IOException {
    Request req = new Request.Builder().url(url).post(RequestBody.create(json, JSON)).build();
    try (Response r = http.newCall(req).execute()) {
      return new Answer(r.code(), r.body() == null ? "" : r.body().string());
    }
  }

  String readOrder(String id) throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement s =
            c.prepareStatement("SELECT id, sku, quantity, status FROM orders WHERE id = ?")) {
      s.setString(1, id);
      try (ResultSet r = s.executeQuery()) {
        if (!r.next()) {
          return null;
        }
        return "{\"order_id\":"
            + quote(r.getString(1))
            + ",\"sku\":"
            + quote(r.getString(2))
            + ",\"quantity\":"
            + r.getInt(3)
            + ",\"status\":"
            + quote(r.getString(4))
            + "}";
      }
    }
  }

  /**
   * The SERVER span of a request, as the HTTP semantic conventions name it, child of the caller's
   * context (traceparent/tracestate through the binding's propagator).
   */
  void serve(HttpExchange ex) throws IOException {
    Context parent = propagator.extract(Context.root(), ex.getRequestHeaders(), HEADERS);
    String method = ex.getRequestMethod();
    String path = ex.getRequestURI().getPath();
    String route = path.startsWith("/orders/") ? "/orders/{id}" : path;
    Span span =
        tracer
            .spanBuilder(method + " " + route)
            .setParent(parent)
            .setSpanKind(SpanKind.SERVER)
            .setAttribute("http.request.method", method)
            .setAttribute("http.route", route)
            .setAttribute("url.path", path)
            .setAttribute("url.scheme", "http")
            .setAttribute("server.address", "127.0.0.1")
            .setAttribute("server.port", (long) ex.getLocalAddress().getPort())
            .setAttribute("network.protocol.version", "1.1")
            .startSpan();
    try (Scope ignored = span.makeCurrent()) {
      int status = handle(ex);
      span.setAttribute("http.response.status_code", (long) status);
      if (status >= 500) {
        span.setStatus(StatusCode.ERROR);
      }
    } catch (IOException | RuntimeException e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, e.getMessage());
      throw e;
    } finally {
      span.end();
    }
  }

  int handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    int status;
    String body;
    try {
      if ("POST".equals(ex.getRequestMethod()) && "/orders".equals(path)) {
        String req = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String sku = field(req, "sku");
        String qty = field(req, "quantity");
        String card = field(req, "card");
        if (sku == null || qty == null) {
          status = 400;
          body = "{\"error\":\"sku and quantity are required\"}";
        } else {
          try {
            body = createOrder(sku, Long.parseLong(qty), card == null ? "0000" : card);
            status = 201;
          } catch (OrderRefused e) {
            status = e.status;
            body = "{\"error\":" + quote(e.getMessage()) + "}";
          }
        }
      } else if ("GET".equals(ex.getRequestMethod()) && path.startsWith("/orders/")) {
        String order = readOrder(path.substring("/orders/".length()));
        status = order == null ? 404 : 200;
        body = order == null ? "{\"error\":\"no such order\"}" : order;
      } else {
        status = 404;
        body = "{\"error\":\"not found\"}";
      }
    } catch (IOException | SQLException | RuntimeException e) {
      LOG.error("request failed", e);
      status = 500;
      body = "{\"error\":" + quote(e.toString()) + "}";
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("content-type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
    return status;
  }

  /** Publishes what is pending, then closes the producer (which waits for acknowledgements). */
  void close() {
    publisher.shutdown();
    try {
      if (!publisher.awaitTermination(90, TimeUnit.SECONDS)) {
        LOG.error("events still pending after 90 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ofSeconds(30));
  }

  public static void main(String[] args) throws Exception {
    // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_* ... from the environment.
    PolytraceSdk sdk = Polytrace.builder().setShutdownHook(false).buildAndRegisterGlobal();
    OrderService service = new OrderService(sdk);
    HttpServer server =
        HttpServer.create(
            new InetSocketAddress("127.0.0.1", Integer.parseInt(env("PORT", "0"))), 64);
    server.createContext("/", service::serve);
    server.setExecutor(Executors.newFixedThreadPool(8));
    // SIGTERM: stop taking requests, deliver pending events (their PRODUCER spans end), flush.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.stop(0);
                  service.close();
                  sdk.shutdown(Duration.ofSeconds(10));
                  LOG.info("order-service stopped");
                }));
    server.start();
    System.out.println("order-service listening on 127.0.0.1:" + server.getAddress().getPort());
    System.out.flush();
  }
}
