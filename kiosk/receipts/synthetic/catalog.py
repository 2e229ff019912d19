"""What Thai shops sell and how each chain prints: the data the content generator draws from.

Chains are described as data (paper, languages, number formats, label words) so the generator
has no per-chain `if`s. Product brands, shop names and numbers are invented; chain names are
kept because the reader normalises to them and the loyalty rules key on them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    th: str
    en: str
    low: int  # price range in baht; weighed goods: per kilogram
    high: int
    weighed: bool = False


@dataclass(frozen=True)
class Chain:
    key: str
    name: str  # Receipt.store.name, as the reader normalises it
    logo: tuple[str, ...]  # what the printed logo says, one choice per receipt
    papers: tuple[int, ...]  # paper widths in mm
    langs: tuple[str, ...]  # 'th', 'en' or 'bi' (both, "รวม/TOTAL"), drawn evenly
    receipt_labels: tuple[str, ...]
    receipt_formats: tuple[str, ...]  # '#' a digit, 'A' a capital letter, else literal
    pos_labels: tuple[str, ...]
    pos_formats: tuple[str, ...]
    basket: tuple[int, int]  # usual number of item lines
    long_chance: float  # chance of a 25-60 line receipt
    code_chance: float  # chance of a QR or Code128 carrying the receipt number
    branch_numbered: float  # chance the branch is a 5-digit number rather than a place
    weighed_goods: bool = False
    article_codes: bool = False  # prints an article code before each name (wholesale style)
    thousands_comma: bool = True


CHAINS: tuple[Chain, ...] = (
    Chain("7-eleven", "7-Eleven", ("7-ELEVEN", "7-Eleven"), (58, 80), ("th", "th", "bi"),
          ("R#", "RCPT#"), ("##########", "#####:####"), ("POS#", "POS ID"),
          ("E#########", "####"), (1, 7), 0.02, 0.5, 0.9),
    Chain("lotuss", "Lotus's", ("Lotus's", "LOTUS'S"), (80,), ("th", "bi", "en"),
          ("เลขที่", "TRANS#", "No."), ("####-###-######", "#######"), ("REG", "POS"),
          ("###", "##"), (3, 15), 0.15, 0.4, 0.3, weighed_goods=True),
    Chain("bigc", "Big C", ("Big C", "BIG C"), (80,), ("th", "bi"),
          ("เลขที่ใบเสร็จ", "RECEIPT NO."), ("BC##########", "##########"), ("POS", "เครื่อง"),
          ("###", "B###"), (3, 15), 0.15, 0.3, 0.4, weighed_goods=True),
    Chain("makro", "Makro", ("makro", "MAKRO"), (80,), ("en", "bi"),
          ("INV NO.", "INVOICE"), ("###-####-######", "A##########"), ("REG", "POS NO."),
          ("###", "####"), (4, 20), 0.2, 0.6, 0.6, weighed_goods=True, article_codes=True),
    Chain("tops", "Tops", ("Tops", "TOPS market"), (80,), ("en", "bi", "th"),
          ("RCPT#", "No."), ("T####-##-######", "##########"), ("POS#", "TERM"),
          ("###", "##"), (2, 12), 0.1, 0.4, 0.2, weighed_goods=True),
    Chain("familymart", "FamilyMart", ("FamilyMart",), (58, 80), ("th", "bi"),
          ("No.", "เลขที่"), ("####-#######", "##########"), ("POS", "REG"),
          ("##", "E########"), (1, 6), 0.02, 0.4, 0.8),
    Chain("cjmore", "CJ More", ("CJ MORE", "CJ More"), (58, 80), ("th", "bi"),
          ("BILL#", "เลขที่"), ("CJ##########", "##########"), ("POS", "เครื่อง"),
          ("##", "###"), (1, 8), 0.03, 0.3, 0.7, thousands_comma=False),
    Chain("independent", "", (), (58, 80), ("th", "th", "bi"),
          ("เลขที่", "No.", "บิลเลขที่"), ("######", "####/#####", "##-####"),
          ("เครื่อง", "POS"), ("##", "#"), (1, 10), 0.05, 0.15, 0.0, thousands_comma=False),
)

# Invented names for small shops; printed after ร้าน / ร้านค้า / before มินิมาร์ท.
SHOP_NAMES = ("สมใจพาณิชย์", "เจริญสุข", "ทองดีมินิมาร์ท", "ป้าแดงโชห่วย", "รุ่งเรืองค้าส่ง",
              "บ้านสวนมาร์ท", "ศรีสยามพานิช", "โชคดีการค้า", "นาคาสโตร์", "มั่งมีศรีสุข",
              "พรทิพย์ซุปเปอร์", "ลุงชัยค้าปลีก")
SHOP_PREFIXES = ("ร้าน", "ร้านค้า", "ร้าน", "")

BRANCH_PLACES = ("พระราม 4", "ลาดพร้าว", "บางนา", "รังสิต", "สุขุมวิท 71", "รัชดาภิเษก",
                 "แจ้งวัฒนะ", "บางกะปิ", "เชียงใหม่ ช้างเผือก", "ขอนแก่น มิตรภาพ", "หาดใหญ่",
                 "พัทยากลาง", "นครปฐม", "อยุธยา", "ภูเก็ต", "อุดรธานี", "ศรีนครินทร์",
                 "สีลม", "ปิ่นเกล้า", "บางใหญ่")

# (road, district line, province and postcode) combinations that read like real addresses.
ADDRESS_AREAS = (
    ("ถ.สุขุมวิท", "แขวงคลองตันเหนือ เขตวัฒนา", "กรุงเทพฯ 10110"),
    ("ถ.พระราม 4", "แขวงคลองเตย เขตคลองเตย", "กรุงเทพฯ 10110"),
    ("ถ.ลาดพร้าว", "แขวงจอมพล เขตจตุจักร", "กรุงเทพฯ 10900"),
    ("ถ.รัชดาภิเษก", "แขวงดินแดง เขตดินแดง", "กรุงเทพฯ 10400"),
    ("ถ.บางนา-ตราด", "แขวงบางนา เขตบางนา", "กรุงเทพฯ 10260"),
    ("ถ.พหลโยธิน", "ต.ประชาธิปัตย์ อ.ธัญบุรี", "จ.ปทุมธานี 12130"),
    ("ถ.ห้วยแก้ว", "ต.สุเทพ อ.เมือง", "จ.เชียงใหม่ 50200"),
    ("ถ.มิตรภาพ", "ต.ในเมือง อ.เมือง", "จ.ขอนแก่น 40000"),
    ("ถ.เพชรเกษม", "ต.หาดใหญ่ อ.หาดใหญ่", "จ.สงขลา 90110"),
    ("ถ.พัทยาสาย 2", "ต.หนองปรือ อ.บางละมุง", "จ.ชลบุรี 20150"),
    ("ถ.ศรีนครินทร์", "ต.สำโรงเหนือ อ.เมือง", "จ.สมุทรปราการ 10270"),
    ("ถ.ทหาร", "ต.หมากแข้ง อ.เมือง", "จ.อุดรธานี 41000"),
)

CASHIER_NAMES = ("สมใจ", "วันดี", "มาลี", "ปรีชา", "NOK", "PLOY", "สุดา", "กิตติ", "ANN")

# FMCG goods under invented brands; names carry the pack size as Thai tills print it.
PRODUCTS: tuple[Product, ...] = (
    Product("น้ำดื่มธาราใส 600มล.", "THARASAI WATER 600ML", 7, 10),
    Product("น้ำดื่มธาราใส 1.5ล. แพ็ค6", "THARASAI WATER 1.5LX6", 55, 72),
    Product("โซดาซ่าเย็น 325มล.", "SA YEN SODA 325ML", 12, 15),
    Product("ชาเขียวมิโดริ น้ำผึ้งมะนาว 500มล.", "MIDORI GREEN TEA HONEY LEMON 500ML", 18, 25),
    Product("เครื่องดื่มชูกำลังม้าเหล็ก 150มล.", "IRON HORSE ENERGY 150ML", 10, 12),
    Product("โคล่าสยาม 1.25ล.", "SIAM COLA 1.25L", 22, 30),
    Product("นมวัวทอง รสจืด 225มล.", "GOLDEN COW MILK PLAIN 225ML", 12, 15),
    Product("นมเปรี้ยวโยกุ ส้ม 180มล.", "YOKU DRINK YOGURT ORANGE 180ML", 10, 13),
    Product("กาแฟดอยเมฆ 3in1 27ก.x10", "DOI MEK COFFEE 3IN1 27GX10", 45, 59),
    Product("น้ำส้มสดใส 100% 1ล.", "SODSAI ORANGE JUICE 1L", 49, 65),
    Product("ปาปริกรอบ มันฝรั่งทอด ออริจินัล 48ก.", "PAPRIKROB POTATO CHIPS ORIGINAL 48G", 20, 30),
    Product("ข้าวเกรียบกุ้งทะเลทอง 60ก.", "THALE THONG PRAWN CRACKER 60G", 15, 20),
    Product("ถั่วลิสงอบทองคำ 35ก.", "THONGKHAM ROASTED PEANUT 35G", 10, 15),
    Product("บิสกิตนาวี รสเนย 120ก.", "NAVEE BUTTER BISCUIT 120G", 25, 35),
    Product("เวเฟอร์ฮันนี่ครีม 50ก.", "HONEY CREAM WAFER 50G", 10, 15),
    Product("ช็อกโกแลตโคโค่ดี 40ก.", "COCODEE CHOCOLATE 40G", 20, 30),
    Product("สาหร่ายทอดกรอบคลื่นทะเล 36ก.", "KLUENTHALE CRISPY SEAWEED 36G", 25, 35),
    Product("บะหมี่กึ่งฯ ซูเปอร์เส้น ต้มยำกุ้ง 55ก.", "SUPERSEN NOODLE TOM YUM KUNG 55G", 6, 8),
    Product("บะหมี่กึ่งฯ เส้นทอง หมูสับ 60ก.", "SENTHONG NOODLE MINCED PORK 60G", 6, 8),
    Product("บะหมี่ถ้วยซูเปอร์เส้น ต้มยำ 60ก.", "SUPERSEN CUP NOODLE TOMYUM 60G", 14, 18),
    Product("โจ๊กทันใจ รสหมู 32ก.", "TANJAI INSTANT CONGEE PORK 32G", 10, 13),
    Product("แชมพูไหมแก้ว สูตรผมนุ่ม 170มล.", "MAIKAEW SHAMPOO SOFT 170ML", 59, 89),
    Product("แชมพูลูมิน่า ขจัดรังแค 340มล.", "LUMINA ANTI-DANDRUFF SHAMPOO 340ML", 119, 159),
    Product("ครีมนวดลูมิน่า 320มล.", "LUMINA CONDITIONER 320ML", 109, 149),
    Product("สบู่ดอกบัว ขาวใส 70ก.x4", "DOKBUA WHITE SOAP 70GX4", 39, 55),
    Product("ยาสีฟันฟันขาว สมุนไพร 160ก.", "FUNKHAO HERBAL TOOTHPASTE 160G", 45, 69),
    Product("แปรงสีฟันบรัชชี่ นุ่มพิเศษ", "BRUSHY TOOTHBRUSH EXTRA SOFT", 25, 45),
    Product("โรลออนเฟรชชี่ 45มล.", "FRESHY ROLL ON 45ML", 49, 79),
    Product("ผงซักฟอกขาวสะอาด 800ก.", "KHAWSA-AD DETERGENT 800G", 59, 79),
    Product("น้ำยาล้างจานมะนาวหอม 500มล.", "MANAOHOM DISHWASH 500ML", 25, 35),
    Product("กระดาษทิชชู่นุ่มใจ แพ็ค6", "NUMJAI TISSUE ROLL 6S", 69, 99),
    Product("น้ำปลาตราปลาทอง 700มล.", "PLATHONG FISH SAUCE 700ML", 25, 35),
    Product("ซีอิ๊วขาวตราภูเขา 300มล.", "PHUKHAO SOY SAUCE 300ML", 22, 30),
    Product("ข้าวหอมมะลิทุ่งทอง 5กก.", "THUNGTHONG JASMINE RICE 5KG", 165, 229),
    Product("น้ำมันถั่วเหลืองทานตะวันทอง 1ล.", "TANTAWAN SOYBEAN OIL 1L", 49, 62),
    Product("ไข่ไก่ เบอร์2 แพ็ค10", "EGGS SIZE 2 PACK10", 45, 60),
    Product("ขนมปังแซนด์วิชฟาร์มดี 480ก.", "FARMDEE SANDWICH BREAD 480G", 38, 48),
    Product("ปลากระป๋องสามทะเล ซอสมะเขือเทศ 155ก.", "SAMTHALE SARDINES TOMATO 155G", 18, 25),
    Product("ข้าวกะเพราไก่อิ่มดี แช่แข็ง 220ก.", "IMDEE FROZEN BASIL CHICKEN RICE", 39, 49),
    Product("ไส้กรอกไก่ชีสซี่ 500ก.", "CHEESY CHICKEN SAUSAGE 500G", 79, 109),
    Product("ไอศกรีมเย็นใจ วานิลลา 450มล.", "YENJAI ICE CREAM VANILLA 450ML", 59, 89),
    Product("ผ้าอ้อมเด็กเบบี้นุ่ม L 32ชิ้น", "BABYNUM DIAPER L 32PCS", 229, 329),
    Product("อาหารแมวเหมียวดี ปลาทู 1.2กก.", "MEOWDEE CAT FOOD MACKEREL 1.2KG", 119, 159),
    Product("ถุงขยะดำสะอาดใจ 24x28", "SA-ADJAI GARBAGE BAG 24X28", 35, 49),
    Product("ถุงพลาสติก", "PLASTIC BAG", 1, 2),
    Product("กล้วยหอม", "BANANA HOM", 39, 59, weighed=True),
    Product("หมูสับ", "MINCED PORK", 119, 159, weighed=True),
    Product("ส้มสายน้ำผึ้ง", "SAI NAMPHUENG ORANGE", 59, 89, weighed=True),
    Product("อกไก่", "CHICKEN BREAST", 85, 109, weighed=True),
    Product("ผักกาดขาว", "CHINESE CABBAGE", 25, 45, weighed=True),
)

# Label words by language; 'bi' receipts print "thai/english" pairs built from these.
LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "title": {"th": ("ใบเสร็จรับเงิน/ใบกำกับภาษีอย่างย่อ", "ใบกำกับภาษีอย่างย่อ"),
              "en": ("RECEIPT/TAX INVOICE (ABB)", "TAX INVOICE (ABB.)")},
    "vat_incl": {"th": ("ราคารวมภาษีมูลค่าเพิ่มแล้ว",), "en": ("VAT INCLUDED",)},
    "tax_id": {"th": ("เลขประจำตัวผู้เสียภาษี", "เลขผู้เสียภาษี"), "en": ("TAX ID:", "TAX ID")},
    "branch": {"th": ("สาขา", "สาขาที่"), "en": ("BRANCH",)},
    "date": {"th": ("วันที่",), "en": ("DATE", "Date:")},
    "cashier": {"th": ("พนักงาน", "แคชเชียร์"), "en": ("CASHIER", "STAFF")},
    "subtotal": {"th": ("รวม", "รวมเป็นเงิน"), "en": ("SUBTOTAL", "SUB TOTAL")},
    "discount": {"th": ("ส่วนลด", "ส่วนลดโปรโมชั่น"), "en": ("DISCOUNT", "PROMO DISC")},
    "bill_discount": {"th": ("ส่วนลดสมาชิก", "คูปองส่วนลด"), "en": ("MEMBER DISC", "COUPON")},
    "void": {"th": ("ยกเลิก",), "en": ("VOID",)},
    "total": {"th": ("ยอดสุทธิ", "รวมทั้งสิ้น", "รวมเงิน"), "en": ("TOTAL", "NET", "NET TOTAL")},
    "items": {"th": ("จำนวน {n} ชิ้น", "{n} รายการ"), "en": ("{n} ITEMS", "QTY {n}")},
    "cash": {"th": ("เงินสด",), "en": ("CASH",)},
    "change": {"th": ("เงินทอน",), "en": ("CHANGE",)},
    "card": {"th": ("บัตรเครดิต",), "en": ("CREDIT CARD", "VISA", "MASTERCARD")},
    "promptpay": {"th": ("พร้อมเพย์",), "en": ("PromptPay", "QR PAYMENT", "THAI QR")},
    "vatable": {"th": ("มูลค่าสินค้า", "มูลค่าก่อนภาษี"), "en": ("VATABLE", "NET OF VAT")},
    "vat": {"th": ("ภาษีมูลค่าเพิ่ม 7%", "ภาษี 7%"), "en": ("VAT 7%", "VAT 7.00%")},
    "member": {"th": ("สมาชิก",), "en": ("MEMBER",)},
    "thanks": {"th": ("ขอบคุณที่ใช้บริการ", "ขอบคุณค่ะ", "สินค้าซื้อแล้วไม่รับเปลี่ยนคืน"),
               "en": ("THANK YOU", "Thank you. Please come again")},
}
