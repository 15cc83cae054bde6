/*
 * The librdkafka side of scripts/bench-kafka-vs-grpc.mjs: one producer process writing N
 * fixed-size records (null keys, a pool of random values) to a topic through the Kafka protocol,
 * then printing one JSON line: records/s, MB/s and the per-record delivery latency (from
 * rd_kafka_producev() to its delivery report: queueing and linger included, as Kafka's
 * ProducerPerformance measures it) at p50/p99/max.
 *
 *   rdkafka-producer <bootstrap> <topic> <records> <record-size> [key=value librdkafka config...]
 *   rdkafka-producer --version
 *
 * Every setting after the first four arguments goes to rd_kafka_conf_set verbatim (acks,
 * batch.size, linger.ms, enable.idempotence, ...). Exits 1 when any record failed.
 */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint32_t *latencies_us; /* one per delivered record */
static long delivered;
static long failed;
static const char *first_error;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The send time travels as the message's opaque: no per-record allocation. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  if (m->err) {
    if (!first_error) first_error = rd_kafka_err2str(m->err);
    failed++;
    return;
  }
  int64_t us = (now_ns() - (int64_t)(intptr_t)m->_private) / 1000;
  latencies_us[delivered++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static double percentile_ms(double p) {
  if (delivered == 0) return 0;
  long i = (long)(p * (double)(delivered - 1));
  return latencies_us[i] / 1000.0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("%s\n", rd_kafka_version_str());
    return 0;
  }
  if (argc < 5) {
    fprintf(stderr, "usage: %s <bootstrap> <topic> <records> <record-size> [key=value ...]\n", argv[0]);
    return 2;
  }
  const char *bootstrap = argv[1], *topic = argv[2];
  long records = atol(argv[3]);
  int size = atoi(argv[4]);
  if (records <= 0 || size < 0) {
    fprintf(stderr, "records must be > 0 and record-size >= 0\n");
    return 2;
  }
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  for (int i = 5; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) {
      fprintf(stderr, "expected key=value, got %s\n", argv[i]);
      return 2;
    }
    *eq = '\0';
    if (rd_kafka_conf_set(conf, argv[i], eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) {
      fprintf(stderr, "%s\n", err);
      return 2;
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  latencies_us = malloc(sizeof(uint32_t) * (size_t)records);
  /* A pool of random values, as Kafka's perf tool uses, so compression could not cheat. */
  enum { POOL = 64 };
  char *pool = malloc((size_t)size * POOL + 1);
  srand(42);
  for (long i = 0; i < (long)size * POOL; i++) pool[i] = (char)(rand() & 0xff);
  if (!latencies_us || !pool) {
    fprintf(stderr, "out of memory\n");
    return 2;
  }

  int64_t start = now_ns();
  for (long i = 0; i < records; i++) {
    for (;;) {
      rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(pool + (i % POOL) * size, (size_t)size),
          RD_KAFKA_V_OPAQUE((void *)(intptr_t)now_ns()), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        fprintf(stderr, "produce failed: %s\n", rd_kafka_err2str(e));
        return 1;
      }
      rd_kafka_poll(rk, 1); /* the local queue is full: serve delivery reports, then retry */
    }
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  while (rd_kafka_outq_len(rk) > 0) rd_kafka_poll(rk, 10);
  double seconds = (now_ns() - start) / 1e9;
  rd_kafka_destroy(rk);

  qsort(latencies_us, (size_t)delivered, sizeof(uint32_t), cmp_u32);
  printf("{\"records\":%ld,\"delivered\":%ld,\"failed\":%ld,\"seconds\":%.3f,\"recordsPerSec\":%.0f,\"mbPerSec\":%.1f,"
         "\"p50Ms\":%.2f,\"p99Ms\":%.2f,\"maxMs\":%.2f,\"librdkafka\":\"%s\"%s%s%s}\n",
         records, delivered, failed, seconds, delivered / seconds, delivered * (double)size / seconds / (1024 * 1024),
         percentile_ms(0.5), percentile_ms(0.99), delivered ? latencies_us[delivered - 1] / 1000.0 : 0, rd_kafka_version_str(),
         first_error ? ",\"firstError\":\"" : "", first_error ? first_error : "", first_error ? "\"" : "");
  return failed > 0 ? 1 : 0;
}
