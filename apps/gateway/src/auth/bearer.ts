/** The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 7235). */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^bearer\s+(.+)$/i.exec(header.trim());
  return match ? match[1].trim() : undefined;
}
