package io.microio.sample;

import static org.assertj.core.api.Assertions.assertThat;

import com.jayway.jsonpath.JsonPath;
import io.microio.test.Awaits;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;

/** An HTTP request whose reply does not come within the request deadline: 504, and nothing left waiting. */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = { "sample.counter.port=0",
        "sample.counter.add-delay=1h", "microio.web.request-timeout=300ms" })
@DirtiesContext
class RequestDeadlineTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @LocalServerPort
    private int port;

    @Autowired
    private CounterGateway gateway;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    @AfterEach
    void closeClient() {
        http.close();
    }

    /** The request's deadline ends the wait for the reply: 504 with a message, and the request is no longer pending. */
    @Test
    void addWhenTheReplyIsLaterThanTheDeadlineShouldAnswer504() throws Exception {
        Awaits.await().until(() -> gateway.status().isConnected());

        HttpResponse<String> response = send("POST", "/counter/add?value=1");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(504);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(JsonPath.<String>read(response.body(), "$.title")).isEqualTo("Deadline exceeded");
        assertThat(JsonPath.<String>read(response.body(), "$.detail")).contains("deadline");
        assertThat(gateway.pending()).isZero();
        assertThat(send("GET", "/counter").statusCode()).isEqualTo(200); // the connection still serves
    }

    private HttpResponse<String> send(String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(TIMEOUT)
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }
}
