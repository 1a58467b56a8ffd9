import { ConfigError } from '../errors.js';

interface UrlFields {
  url?: string | undefined;
  host: string;
  port: number;
  user: string;
  database?: string;
}

/**
 * Lets a source be given as `url: postgres://user@host:port/db` (or mysql://user@host:port).
 * A password in the URL is refused: it would travel in workflow input and history.
 */
export function applySourceUrl<T extends UrlFields>(source: T): T {
  if (source.url === undefined) return source;
  let url: URL;
  try {
    url = new URL(source.url);
  } catch {
    throw new ConfigError(`source.url: ${JSON.stringify(redact(source.url))} is not a URL`, 'write it as postgres://user@host:5432/database');
  }
  if (url.password !== '') {
    throw new ConfigError(
      `source.url: contains a password (${redact(source.url)})`,
      'remove it from the URL, export it in the worker environment and set passwordEnv: NAME_OF_THAT_VARIABLE',
    );
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return {
    ...source,
    host: url.hostname || source.host,
    port: url.port === '' ? source.port : Number(url.port),
    user: url.username === '' ? source.user : decodeURIComponent(url.username),
    ...(source.database !== undefined && database !== '' ? { database } : {}),
  };
}

function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
