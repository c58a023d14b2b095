/**
 * The assigned partitions that have records left to fetch: the broker's end of each is past
 * where the consumer would fetch next (the lane's last fetched offset, else the stream's next
 * fetch position). A silent consumer with such a partition is stuck, not idle.
 */
export function partitionsBehind(
  assigned: number[],
  ends: readonly bigint[],
  fetchFrom: (partition: number) => bigint | undefined,
): number[] {
  return assigned.filter((partition) => {
    const from = fetchFrom(partition);
    const end = ends[partition];
    return from !== undefined && end !== undefined && end > from;
  });
}
