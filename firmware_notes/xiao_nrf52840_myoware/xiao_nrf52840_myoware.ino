// Reference firmware for the open nkt sensor (protocol version 1).
// Board: Seeed XIAO nRF52840 Sense (on-board LSM6DS3TR-C IMU), up to 4 MyoWare 2.0
// EMG boards with their RAW outputs on A0..A3. Spec: ../nkt-sensor-profile.md.
//
// NOT BUILT OR RUN in this repository: no toolchain or hardware here. It was written
// against the Adafruit nRF52 Arduino core as packaged by Seeed ("Seeed nRF52 Boards",
// the non-mbed core) with its bundled Adafruit Bluefruit library, and the
// "Seeed Arduino LSM6DS3" library. Check every API call on your versions before use.
//
// Safety: battery powered only. Never connect USB from a mains-powered computer
// while electrodes are on a person (see ../wiring-and-placement.md).
//
// Design notes
// - EMG is sampled in a TIMER4 interrupt at 1 or 2 kHz (exact sample instants); the
//   interrupt fills a ring buffer. loop() packs packets and notifies.
// - The IMU (I2C) cannot be read from the interrupt; loop() reads it when its tick is
//   due (every fs_emg / fs_imu EMG ticks) and indexes it by that tick, so both
//   streams share one clock. A late loop() makes the IMU value late, never misplaced
//   in the index.
// - A production firmware would drive the SAADC from the timer through PPI with
//   EasyDMA instead of calling analogRead() in an interrupt.

#include <Arduino.h>
#include <bluefruit.h>
#include <Wire.h>
#include "LSM6DS3.h"

// ---------------------------------------------------------------- protocol constants
// 128-bit UUIDs, least significant byte first (Bluefruit's order).
// Base 6e6bXXXX-3c4e-4b54-9d2a-6d6f74696f6e
#define NKT_UUID(b0, b1) { 0x6e, 0x6f, 0x69, 0x74, 0x6f, 0x6d, 0x2a, 0x9d, \
                           0x54, 0x4b, 0x4e, 0x3c, b0, b1, 0x6b, 0x6e }
static const uint8_t UUID_SERVICE[16] = NKT_UUID(0x01, 0x00);
static const uint8_t UUID_CONTROL[16] = NKT_UUID(0x02, 0x00);
static const uint8_t UUID_EMG[16]     = NKT_UUID(0x03, 0x00);
static const uint8_t UUID_IMU[16]     = NKT_UUID(0x04, 0x00);

enum : uint8_t { OP_START = 0x01, OP_STOP = 0x02, OP_CONF_EMG = 0x03, OP_CONF_IMU = 0x04 };
enum : uint8_t { ST_OK = 0, ST_UNKNOWN_OP = 1, ST_BAD_PARAM = 2, ST_BAD_LEN = 3,
                 ST_BAD_STATE = 4, ST_MTU_TOO_SMALL = 5 };

static const uint8_t  HEADER_LEN = 8;
static const uint8_t  MAX_EMG_CH = 4;
static const uint8_t  EMG_PINS[MAX_EMG_CH] = { A0, A1, A2, A3 };
static const uint8_t  EMG_BATCH = 20;        // samples per EMG packet at MTU 247
static const uint8_t  IMU_BATCH = 10;        // samples per IMU packet at MTU 247
static const uint16_t MAX_NOTIFY_PER_S = 500;
static const int16_t  RAIL_MARGIN = 16;      // ADC counts from 0 or 4095 = "at a rail"

// ---------------------------------------------------------------- configuration
static volatile bool streaming = false;
static uint8_t  emgRateCode = 1;              // 0: 1000 Hz, 1: 2000 Hz
static uint8_t  emgMask = 0x0F;               // channels 1..4
static uint8_t  imuRateCode = 0;              // 0: 100 Hz, 1: 200 Hz
static uint8_t  accCode = 2;                  // +-8 g
static uint8_t  gyroCode = 4;                 // +-2000 dps
static bool     wantEmg = true, wantImu = true;

static const uint16_t ACC_FS[4]  = { 2, 4, 8, 16 };
static const uint16_t GYRO_FS[5] = { 125, 245, 500, 1000, 2000 };  // library value for 250

// ---------------------------------------------------------------- BLE objects
BLEService        nktService(UUID_SERVICE);
BLECharacteristic controlChr(UUID_CONTROL);
BLECharacteristic emgChr(UUID_EMG);
BLECharacteristic imuChr(UUID_IMU);
BLEDis            bledis;
BLEBas            blebas;
LSM6DS3           imu(I2C_MODE, 0x6A);

static uint16_t connHandle = BLE_CONN_HANDLE_INVALID;

// ---------------------------------------------------------------- EMG sampling (ISR)
// One slot per EMG tick: the selected channels' values in uV and the flag bits.
struct EmgSlot { int16_t uv[MAX_EMG_CH]; uint8_t flags; };
static const uint16_t RING = 512;             // 256 ms at 2 kHz
static EmgSlot ring[RING];
static volatile uint32_t tickCount = 0;       // EMG sample index of the next tick
static volatile uint32_t ringHead = 0;        // == tickCount, written by the ISR only
static volatile uint32_t emgOverflows = 0;
static uint32_t ringTail = 0;                 // read by loop()
static uint16_t railRun[MAX_EMG_CH];          // consecutive ticks at a rail

static inline uint16_t emgRateHz() { return emgRateCode ? 2000 : 1000; }
static inline uint16_t imuRateHz() { return imuRateCode ? 200 : 100; }

extern "C" void TIMER4_IRQHandler(void) {
  if (!NRF_TIMER4->EVENTS_COMPARE[0]) return;
  NRF_TIMER4->EVENTS_COMPARE[0] = 0;
  EmgSlot &s = ring[ringHead % RING];
  s.flags = 0;
  const uint16_t leadOffTicks = emgRateHz() / 20;   // 50 ms
  for (uint8_t ch = 0; ch < MAX_EMG_CH; ch++) {
    if (!(emgMask & (1u << ch))) continue;
    int32_t adc = analogRead(EMG_PINS[ch]);          // 12 bit, 0..3.6 V
    bool atRail = adc <= RAIL_MARGIN || adc >= 4095 - RAIL_MARGIN;
    if (adc == 0 || adc == 4095) s.flags |= (1u << ch);            // saturation
    railRun[ch] = atRail ? (railRun[ch] < 0xFFFF ? railRun[ch] + 1 : railRun[ch]) : 0;
    if (railRun[ch] >= leadOffTicks) s.flags |= (1u << (ch + 4));  // lead-off
    // uV at the electrodes: (adc - 2048) * 3.6 V / 4096 / gain 200 = * 1125 / 256
    s.uv[ch] = (int16_t)(((adc - 2048) * 1125) / 256);
  }
  if (ringHead - ringTail >= RING) emgOverflows++;  // loop() too slow: oldest lost
  ringHead++;
  tickCount++;
}

static void startTimer() {
  NRF_TIMER4->TASKS_STOP = 1;
  NRF_TIMER4->TASKS_CLEAR = 1;
  NRF_TIMER4->MODE = TIMER_MODE_MODE_Timer;
  NRF_TIMER4->BITMODE = TIMER_BITMODE_BITMODE_32Bit;
  NRF_TIMER4->PRESCALER = 4;                          // 16 MHz / 2^4 = 1 MHz
  NRF_TIMER4->CC[0] = 1000000UL / emgRateHz();        // 1000 or 500 us
  NRF_TIMER4->SHORTS = TIMER_SHORTS_COMPARE0_CLEAR_Msk;
  NRF_TIMER4->INTENSET = TIMER_INTENSET_COMPARE0_Msk;
  NVIC_SetPriority(TIMER4_IRQn, 3);                   // 0, 1 and 4 belong to the SoftDevice
  NVIC_ClearPendingIRQ(TIMER4_IRQn);
  NVIC_EnableIRQ(TIMER4_IRQn);
  NRF_TIMER4->TASKS_START = 1;
}

static void stopTimer() {
  NRF_TIMER4->TASKS_STOP = 1;
  NVIC_DisableIRQ(TIMER4_IRQn);
}

// ---------------------------------------------------------------- packets
static uint16_t emgSeq = 0, imuSeq = 0;
static uint32_t imuIndex = 0;                // next IMU sample index
static uint8_t  imuBuf[HEADER_LEN + 2 * 6 * IMU_BATCH];
static uint8_t  imuCount = 0, imuFlags = 0;
static uint32_t imuFirst = 0;

static inline void putU16(uint8_t *p, uint16_t v) { p[0] = v & 0xFF; p[1] = v >> 8; }
static inline void putU32(uint8_t *p, uint32_t v) {
  for (uint8_t i = 0; i < 4; i++) p[i] = (v >> (8 * i)) & 0xFF;
}

static uint8_t channelCount() {
  uint8_t n = 0;
  for (uint8_t ch = 0; ch < MAX_EMG_CH; ch++) n += (emgMask >> ch) & 1u;
  return n;
}

static uint16_t payloadMax() {
  if (connHandle == BLE_CONN_HANDLE_INVALID) return 20;
  BLEConnection *conn = Bluefruit.Connection(connHandle);
  return conn ? conn->getMtu() - 3 : 20;
}

static uint8_t samplesPerPacket(uint8_t valuesPerSample, uint8_t batch) {
  uint16_t fit = (payloadMax() - HEADER_LEN) / (2 * valuesPerSample);
  return fit < batch ? (uint8_t)fit : batch;
}

static void sendEmgIfReady() {
  const uint8_t nch = channelCount();
  const uint8_t n = samplesPerPacket(nch, EMG_BATCH);
  if (n == 0) return;
  if (ringHead - ringTail > RING) ringTail = ringHead - RING;  // skip what was overwritten
  while (ringHead - ringTail >= n) {
    uint8_t pkt[HEADER_LEN + 2 * MAX_EMG_CH * EMG_BATCH];
    uint8_t flags = 0, *p = pkt + HEADER_LEN;
    for (uint8_t i = 0; i < n; i++) {
      const EmgSlot &s = ring[(ringTail + i) % RING];
      flags |= s.flags;
      for (uint8_t ch = 0; ch < MAX_EMG_CH; ch++) {
        if (!(emgMask & (1u << ch))) continue;
        putU16(p, (uint16_t)s.uv[ch]);
        p += 2;
      }
    }
    putU16(pkt, emgSeq);
    putU32(pkt + 2, ringTail);
    pkt[6] = emgMask | (emgRateCode << 4);
    pkt[7] = flags;
    if (!emgChr.notify(pkt, p - pkt)) return;  // queue full: retry on the next loop()
    emgSeq++;
    ringTail += n;
  }
}

static void readImuIfDue() {
  const uint32_t decim = emgRateHz() / imuRateHz();   // 10 or 20, or 5 or 10
  if (tickCount < imuIndex * decim) return;
  // One burst read: OUTX_L_G (0x22) .. OUTZ_H_XL (0x2D) = gyro xyz then acc xyz.
  uint8_t raw[12];
  if (imu.readRegisterRegion(raw, LSM6DS3_ACC_GYRO_OUTX_L_G, 12) != IMU_SUCCESS) return;
  const uint8_t n = samplesPerPacket(6, IMU_BATCH);
  if (imuCount == 0) imuFirst = imuIndex;
  uint8_t *p = imuBuf + HEADER_LEN + 12 * imuCount;
  const uint8_t order[6] = { 6, 8, 10, 0, 2, 4 };     // acc xyz, then gyro xyz
  for (uint8_t i = 0; i < 6; i++) {
    int16_t v = (int16_t)(raw[order[i]] | (raw[order[i] + 1] << 8));
    if (v == 32767 || v == -32768) imuFlags |= (1u << i);
    putU16(p + 2 * i, (uint16_t)v);
  }
  imuIndex++;
  if (++imuCount < n) return;
  putU16(imuBuf, imuSeq);
  putU32(imuBuf + 2, imuFirst);
  imuBuf[6] = accCode | (gyroCode << 2) | (imuRateCode << 5);
  imuBuf[7] = imuFlags;
  if (imuChr.notify(imuBuf, HEADER_LEN + 12 * imuCount)) imuSeq++;
  // A failed notify drops this IMU packet; the host sees the index gap.
  imuCount = 0;
  imuFlags = 0;
}

// ---------------------------------------------------------------- control point
static void respond(uint8_t op, uint8_t status) {
  uint8_t r[3] = { 0xF0, op, status };
  controlChr.indicate(r, sizeof r);
}

static bool configureImuSensor() {
  imu.settings.accelRange = ACC_FS[accCode];
  imu.settings.accelSampleRate = 416;
  imu.settings.gyroRange = GYRO_FS[gyroCode];
  imu.settings.gyroSampleRate = 416;
  return imu.begin() == 0;
}

static uint8_t startStreams(uint8_t streams) {
  wantEmg = streams & 1u;
  wantImu = streams & 2u;
  uint32_t perS = 0;
  if (wantEmg) perS += emgRateHz() / samplesPerPacket(channelCount(), EMG_BATCH);
  if (wantImu) perS += imuRateHz() / samplesPerPacket(6, IMU_BATCH);
  if (samplesPerPacket(channelCount(), EMG_BATCH) == 0 || perS > MAX_NOTIFY_PER_S)
    return ST_MTU_TOO_SMALL;
  noInterrupts();
  tickCount = ringHead = 0;
  interrupts();
  ringTail = imuIndex = 0;
  emgSeq = imuSeq = 0;
  imuCount = imuFlags = 0;
  memset(railRun, 0, sizeof railRun);
  streaming = true;
  startTimer();
  return ST_OK;
}

// Runs in the BLE task: keep it short, no blocking calls besides indicate().
static void controlWrite(uint16_t, BLECharacteristic *, uint8_t *d, uint16_t len) {
  if (len == 0) return respond(0, ST_BAD_LEN);
  const uint8_t op = d[0];
  switch (op) {
    case OP_START:
      if (len != 2) return respond(op, ST_BAD_LEN);
      if (d[1] < 1 || d[1] > 3) return respond(op, ST_BAD_PARAM);
      if (streaming) return respond(op, ST_BAD_STATE);
      return respond(op, startStreams(d[1]));
    case OP_STOP:
      if (len != 1) return respond(op, ST_BAD_LEN);
      stopTimer();
      streaming = false;
      return respond(op, ST_OK);
    case OP_CONF_EMG:
      if (len != 3) return respond(op, ST_BAD_LEN);
      if (streaming) return respond(op, ST_BAD_STATE);
      if (d[1] > 1 || d[2] == 0 || d[2] > 0x0F) return respond(op, ST_BAD_PARAM);
      emgRateCode = d[1];
      emgMask = d[2];
      return respond(op, ST_OK);
    case OP_CONF_IMU:
      if (len != 4) return respond(op, ST_BAD_LEN);
      if (streaming) return respond(op, ST_BAD_STATE);
      if (d[1] > 1 || d[2] > 3 || d[3] > 4) return respond(op, ST_BAD_PARAM);
      imuRateCode = d[1];
      accCode = d[2];
      gyroCode = d[3];
      return respond(op, configureImuSensor() ? ST_OK : ST_BAD_STATE);
    default:
      return respond(op, ST_UNKNOWN_OP);
  }
}

// ---------------------------------------------------------------- connection
static void onConnect(uint16_t handle) {
  connHandle = handle;
  BLEConnection *conn = Bluefruit.Connection(handle);
  conn->requestPHY();                 // 2M if the central agrees; the budget assumes 1M
  conn->requestDataLengthUpdate();    // DLE 251
  conn->requestMtuExchange(247);
}

static void onDisconnect(uint16_t, uint8_t) {
  stopTimer();
  streaming = false;
  connHandle = BLE_CONN_HANDLE_INVALID;
}

// ---------------------------------------------------------------- battery
static uint8_t batteryPercent() {
#if defined(PIN_VBAT) && defined(VBAT_ENABLE)
  // XIAO nRF52840: divider 1 M / 510 k enabled by driving VBAT_ENABLE low.
  // Check your board revision's schematic before trusting the ratio.
  // The EMG interrupt also uses the SAADC: read with interrupts off (~20 us).
  digitalWrite(VBAT_ENABLE, LOW);
  noInterrupts();
  uint32_t counts = (uint32_t)analogRead(PIN_VBAT);
  interrupts();
  uint32_t mv = counts * 3600UL / 4096UL * 1510UL / 510UL;
  if (mv <= 3300) return 0;
  if (mv >= 4200) return 100;
  return (uint8_t)((mv - 3300) / 9);   // coarse linear LiPo estimate
#else
  return 100;
#endif
}

// ---------------------------------------------------------------- setup / loop
void setup() {
  analogReadResolution(12);           // SAADC 12 bit; default reference = 3.6 V range
#if defined(PIN_LSM6DS3TR_C_POWER)
  pinMode(PIN_LSM6DS3TR_C_POWER, OUTPUT);
  digitalWrite(PIN_LSM6DS3TR_C_POWER, HIGH);
  delay(10);
#endif
#if defined(VBAT_ENABLE)
  pinMode(VBAT_ENABLE, OUTPUT);
  digitalWrite(VBAT_ENABLE, LOW);
#endif
  Wire.begin();
  Wire.setClock(400000);
  configureImuSensor();

  // MTU 247, 15 ms event length (12 x 1.25 ms), 16 queued notifications, 4 writes.
  Bluefruit.configPrphConn(247, 12, 16, 4);
  Bluefruit.begin();
  Bluefruit.setTxPower(4);
  char name[12];
  snprintf(name, sizeof name, "NKT-%04X", (unsigned)(NRF_FICR->DEVICEADDR[0] & 0xFFFF));
  Bluefruit.setName(name);
  Bluefruit.Periph.setConnInterval(6, 12);   // 7.5-15 ms in 1.25 ms units
  Bluefruit.Periph.setConnectCallback(onConnect);
  Bluefruit.Periph.setDisconnectCallback(onDisconnect);

  bledis.setManufacturer("nkt-motion DIY");
  bledis.setModel("XIAO-nRF52840-Sense+MyoWare2");
  bledis.setFirmwareRev("nkt-fw 1.0");
  bledis.begin();
  blebas.begin();
  blebas.write(batteryPercent());

  nktService.begin();
  controlChr.setProperties(CHR_PROPS_WRITE | CHR_PROPS_INDICATE);
  controlChr.setPermission(SECMODE_OPEN, SECMODE_OPEN);
  controlChr.setMaxLen(4);
  controlChr.setWriteCallback(controlWrite);
  controlChr.begin();
  emgChr.setProperties(CHR_PROPS_NOTIFY);
  emgChr.setPermission(SECMODE_OPEN, SECMODE_NO_ACCESS);
  emgChr.setMaxLen(244);
  emgChr.begin();
  imuChr.setProperties(CHR_PROPS_NOTIFY);
  imuChr.setPermission(SECMODE_OPEN, SECMODE_NO_ACCESS);
  imuChr.setMaxLen(244);
  imuChr.begin();

  Bluefruit.Advertising.addFlags(BLE_GAP_ADV_FLAGS_LE_ONLY_GENERAL_DISC_MODE);
  Bluefruit.Advertising.addService(nktService);
  Bluefruit.ScanResponse.addName();
  Bluefruit.Advertising.restartOnDisconnect(true);
  Bluefruit.Advertising.setInterval(160, 160);   // 100 ms in 0.625 ms units
  Bluefruit.Advertising.start(0);
}

void loop() {
  static uint32_t lastBattery = 0;
  if (streaming) {
    if (wantImu) readImuIfDue();
    if (wantEmg) sendEmgIfReady();
    else ringTail = ringHead;   // EMG not requested: discard, the timer still paces the IMU
  }
  if (millis() - lastBattery > 30000) {
    lastBattery = millis();
    blebas.notify(batteryPercent());
  }
  yield();
}
