package io.polytrace;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** A test class with one real OTLP receiver ({@code polytrace receive}) for all its tests. */
abstract class ReceiverTest {
  static TestSupport.Receiver receiver;

  @BeforeAll
  static void startReceiver() throws Exception {
    receiver = new TestSupport.Receiver();
  }

  @AfterAll
  static void stopReceiver() {
    receiver.close();
  }
}
