import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface User {
  id: string;
  displayName: string | null;
  createdAt: string;
}

interface UserRow {
  id: string;
  display_name: string | null;
  created_at: Date;
}
const toUser = (r: UserRow): User => ({
  id: r.id,
  displayName: r.display_name,
  createdAt: r.created_at.toISOString(),
});

@Injectable()
export class UsersRepository {
  constructor(private readonly db: DataSource) {}

  /** Returns null when the id is taken. */
  async create(id: string, displayName: string | null): Promise<User | null> {
    const rows: UserRow[] = await this.db.query(
      `INSERT INTO users (id, display_name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING *`,
      [id, displayName],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  async get(id: string): Promise<User | null> {
    const rows: UserRow[] = await this.db.query(`SELECT * FROM users WHERE id = $1`, [id]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  /** A page of users by id (keyset: O(page) at any depth). */
  async page(after: string | undefined, limit: number): Promise<User[]> {
    const rows: UserRow[] = await this.db.query(
      `SELECT * FROM users WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`,
      [after ?? null, limit],
    );
    return rows.map(toUser);
  }

  /** The ids among `ids` that have no user. */
  async missing(ids: string[]): Promise<string[]> {
    const rows: { id: string }[] = await this.db.query(`SELECT id FROM users WHERE id = ANY($1::text[])`, [
      ids,
    ]);
    const found = new Set(rows.map((r) => r.id));
    return ids.filter((id) => !found.has(id));
  }
}
