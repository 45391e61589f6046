"""BLE sensors on a virtual radio: bumble's real stack, bleak's real API, no hardware.

``VirtualBus`` joins virtual controllers on an in-memory link; ``EmulatedClient`` and
``EmulatedScanner`` are bleak backends driving the bus's central; ``EmulatedSensor``
is the base of emulated peripherals (GATT table as data, paced notification streams
on a skewable device clock, injected drops, disconnects and link losses). Nothing in
the core imports this package: it serves tests and demos.

Examples
--------
>>> from nkt_motion.emulate import DeviceClock
>>> DeviceClock(skew_ppm=100.0).rate
1.0001
"""

from nkt_motion.emulate.bus import CENTRAL_ADDRESS, BusNode, VirtualBus
from nkt_motion.emulate.client import ATT_MTU, EmulatedClient
from nkt_motion.emulate.gatt_table import CharacteristicSpec, GattRefusal, ServiceSpec
from nkt_motion.emulate.myo_sensor import MyoSensor
from nkt_motion.emulate.nkt_sensor import NktSensor
from nkt_motion.emulate.polar_sensor import PolarSensor
from nkt_motion.emulate.profiles import ProfileSensor, SignalSource, array_source
from nkt_motion.emulate.scanner import EmulatedScanner
from nkt_motion.emulate.sensor import LINK_LOSS_REASON, EmulatedSensor
from nkt_motion.emulate.streaming import DeviceClock, Faults, NotificationStream, PacketSource
from nkt_motion.emulate.witmotion_sensor import WitMotionSensor

__all__ = [
    "ATT_MTU",
    "CENTRAL_ADDRESS",
    "LINK_LOSS_REASON",
    "BusNode",
    "CharacteristicSpec",
    "DeviceClock",
    "EmulatedClient",
    "EmulatedScanner",
    "EmulatedSensor",
    "Faults",
    "GattRefusal",
    "MyoSensor",
    "NktSensor",
    "NotificationStream",
    "PacketSource",
    "PolarSensor",
    "ProfileSensor",
    "ServiceSpec",
    "SignalSource",
    "VirtualBus",
    "WitMotionSensor",
    "array_source",
]
