/**
 * An exception whose type name is {@code ValueError}, as the span vectors name it (a class in
 * the unnamed package, so its name is exactly that).
 */
public class ValueError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ValueError(String message) {
    super(message);
  }
}
