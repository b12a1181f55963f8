/** An exception whose type name is {@code KeyError}, as the span vectors name it. */
public class KeyError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public KeyError(String message) {
    super(message);
  }
}
