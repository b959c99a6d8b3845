"""A corpus of CRM export shapes, built by code (issue 12): each entry is the files of one export
as its CRM writes them, and the figures a person counted by hand from the rows below."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Expected:
    rows: int  # opportunities loaded
    won: int
    lost: int
    open: int
    amount: float  # sum of all loaded amounts


@dataclass(frozen=True)
class Export:
    name: str
    files: dict[str, bytes]
    expected: Expected


def _csv(lines: list[str], sep: str = ",", encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(line.replace("|", sep) for line in lines) + "\r\n").encode(encoding)


SALESFORCE_REPORT = _csv([
    "Opportunity Owner|Account Name|Opportunity Name|Stage|Fiscal Period|Amount|Probability (%)|Age|Close Date|Created Date|Opportunity ID",
    "Ana Silva|Acme|Acme renewal|Closed Won|Q1-2024|12000.00|100|30|2024-03-10|2024-02-01|0065g00000AAA01",
    "Ana Silva|Globex|Globex pilot|Closed Lost|Q1-2024|8000.00|0|20|2024-03-15|2024-02-20|0065g00000AAA02",
    "Bo Chen|Initech|Initech suite|Negotiation/Review|Q2-2024|15000.00|90|40|2024-06-30|2024-03-01|0065g00000AAA03",
    "Bo Chen|Umbrella|Umbrella add-on|Prospecting|Q2-2024|3000.00|10|5|2024-06-30|2024-04-01|0065g00000AAA04",
    '"Grand Totals (4 records)"||||38000.00||||||',
])  # fmt: skip
SALESFORCE_HISTORY = _csv([
    "Opportunity ID|From Stage|To Stage|Last Modified",
    "0065g00000AAA01|Prospecting|Qualification|2024-02-05",
    "0065g00000AAA01|Qualification|Closed Won|2024-03-10",
    "0065g00000AAA02|Prospecting|Closed Lost|2024-03-15",
    "0065g00000AAA03|Prospecting|Negotiation/Review|2024-03-20",
])  # fmt: skip

# Salesforce data export by API names: Opportunity.csv with IsWon/IsClosed, OpportunityHistory.csv.
SF_API_OPPORTUNITY = _csv([
    "Id|IsDeleted|AccountId|Name|StageName|Amount|Probability|CloseDate|Type|LeadSource|IsClosed|IsWon|ForecastCategoryName|OwnerId|CreatedDate|LastModifiedDate",
    "0061|false|0011|Alpha|Contract Signed|5000|100|2024-01-20|New Business|Web|true|true|Closed|0051|2023-12-01T09:00:00.000Z|2024-01-20T10:00:00.000Z",
    "0062|false|0012|Beta|No Budget|7000|0|2024-02-11|New Business|Partner|true|false|Omitted|0051|2023-12-05T09:00:00.000Z|2024-02-11T10:00:00.000Z",
    "0063|false|0013|Gamma|Solutioning|9000|40|2024-05-30|Existing Business|Web|false|false|Pipeline|0052|2024-01-10T09:00:00.000Z|2024-03-01T10:00:00.000Z",
    "0064|false|0014|Delta|Scoping|1000|20|2024-06-30|New Business|Event|false|false|Pipeline|0052|2024-02-10T09:00:00.000Z|2024-03-02T10:00:00.000Z",
])  # fmt: skip
SF_API_HISTORY = _csv([
    "Id|OpportunityId|CreatedById|CreatedDate|StageName|Amount|ExpectedRevenue|CloseDate|Probability|ForecastCategory|SystemModstamp|IsDeleted",
    "0081|0061|0051|2023-12-01T09:00:00.000Z|Scoping|5000|1000|2024-01-31|20|Pipeline|2023-12-01T09:00:00.000Z|false",
    "0082|0061|0051|2023-12-20T09:00:00.000Z|Solutioning|5000|2000|2024-01-31|40|Pipeline|2023-12-20T09:00:00.000Z|false",
    "0083|0061|0051|2024-01-20T10:00:00.000Z|Contract Signed|5000|5000|2024-01-20|100|Closed|2024-01-20T10:00:00.000Z|false",
    "0084|0062|0051|2023-12-05T09:00:00.000Z|Scoping|7000|1400|2024-02-29|20|Pipeline|2023-12-05T09:00:00.000Z|false",
    "0085|0062|0051|2024-02-11T10:00:00.000Z|No Budget|7000|0|2024-02-11|0|Omitted|2024-02-11T10:00:00.000Z|false",
    "0086|0063|0052|2024-01-10T09:00:00.000Z|Scoping|9000|1800|2024-05-30|20|Pipeline|2024-01-10T09:00:00.000Z|false",
    "0087|0063|0052|2024-02-10T09:00:00.000Z|Solutioning|9000|3600|2024-05-30|40|BestCase|2024-02-10T09:00:00.000Z|false",
    "0088|0064|0052|2024-02-10T09:00:00.000Z|Scoping|1000|200|2024-06-30|20|Pipeline|2024-02-10T09:00:00.000Z|false",
])  # fmt: skip

# HubSpot UI export, custom pipeline: closed stages named by the team, told apart by probability.
HUBSPOT_UI = _csv([
    'Record ID|Deal Name|Deal Stage|Pipeline|Amount|Close Date|Create Date|Deal owner|Deal probability|Cumulative time in "Discovery (Renewals)" (HH:mm:ss)|Cumulative time in "Proposal (Renewals)" (HH:mm:ss)',
    "9001|Renew A|Signed|Renewals|1200|2024-04-01 10:00|2024-03-01 09:00|Kim Lee|1|120:00:00|48:00:00",
    "9002|Renew B|Gone quiet|Renewals|800|2024-04-05 10:00|2024-03-02 09:00|Kim Lee|0|24:00:00|",
    "9003|Renew C|Proposal|Renewals|500|2024-05-01 10:00|2024-03-03 09:00|Raj Patel|0.6|72:00:00|10:00:00",
    "9004|Renew D|Discovery|Renewals|300|2024-05-10 10:00|2024-03-04 09:00|Raj Patel|0.2|30:00:00|",
    "9005|Renew E|Signed|Renewals|2000|2024-04-20 10:00|2024-03-05 09:00|Raj Patel|1|10:00:00|5:30:00",
])  # fmt: skip

# HubSpot export by API property names.
HUBSPOT_API = _csv([
    "hs_object_id|dealname|dealstage|pipeline|amount|closedate|createdate|hubspot_owner_id|hs_deal_stage_probability",
    "101|A|closedwon|default|1000.5|2024-02-01T00:00:00Z|2024-01-01T00:00:00Z|501|1.0",
    "102|B|closedlost|default|2000|2024-02-03T00:00:00Z|2024-01-02T00:00:00Z|501|0.0",
    "103|C|appointmentscheduled|default|300|2024-03-01T00:00:00Z|2024-01-03T00:00:00Z|502|0.2",
    "104|D|contractsent|default|400|2024-03-05T00:00:00Z|2024-01-04T00:00:00Z|502|0.9",
    "105|E|closedwon|default|99.5|2024-02-10T00:00:00Z|2024-01-05T00:00:00Z|503|1.0",
])  # fmt: skip

# Pipedrive, Portuguese UI: status column decides won / lost; European decimals in quotes.
PIPEDRIVE_PT = _csv([
    "Negócio - ID|Negócio - Título|Negócio - Valor|Negócio - Moeda do valor|Negócio - Proprietário|Negócio - Etapa|Negócio - Status|Negócio - Negócio criado|Negócio - Negócio fechado em|Negócio - Pessoa de contato",
    '1|Loja Centro|"1.500,00"|BRL|João Araújo|Proposta feita|Ganho|2024-01-10 10:00:00|2024-02-01 12:00:00|Ana',
    '2|Loja Norte|"2.250,50"|BRL|João Araújo|Contato feito|Perdido|2024-01-11 10:00:00|2024-02-05 12:00:00|Bia',
    '3|Loja Sul|"980,00"|BRL|Márcia Conceição|Negociações iniciadas|Aberto|2024-01-12 10:00:00||Caio',
    '4|Loja Leste|"3.000,00"|BRL|Márcia Conceição|Proposta feita|Aberto|2024-01-13 10:00:00||Davi',
    '5|Loja Oeste|"500,25"|BRL|João Araújo|Negociações iniciadas|Ganho|2024-01-14 10:00:00|2024-03-01 12:00:00|Eva',
])  # fmt: skip

ZOHO = _csv([
    "Record Id|Deal Owner|Deal Name|Account Name|Stage|Amount|Probability (%)|Closing Date|Created Time|Lead Source",
    "zcrm_1|Maria|Deal 1|Zeta|Qualification|1000|10|2024-05-01|2024-01-01 10:00:00|Web",
    "zcrm_2|Maria|Deal 2|Eta|Closed Won|2000|100|2024-02-01|2024-01-02 10:00:00|Web",
    "zcrm_3|Omar|Deal 3|Theta|Closed-Lost to Competition|3000|0|2024-02-15|2024-01-03 10:00:00|Partner",
    "zcrm_4|Omar|Deal 4|Iota|Negotiation/Review|4000|90|2024-06-01|2024-01-04 10:00:00|Event",
])  # fmt: skip

# Dynamics 365 "Export to Excel" saved as CSV: GUID in a (Do Not Modify) column, Status Open/Won/Lost.
DYNAMICS = _csv([
    "(Do Not Modify) Opportunity|(Do Not Modify) Row Checksum|(Do Not Modify) Modified On|Topic|Potential Customer|Est. Close Date|Est. Revenue|Status|Status Reason|Pipeline Phase|Owner|Created On",
    '6f1c-01|x1|2024-03-01|Fleet deal|Contoso|2024-04-30|"$25,000.00"|Open|In Progress|2-Develop|Dana|2024-01-15',
    '6f1c-02|x2|2024-03-02|Laptops|Fabrikam|2024-02-28|"$10,500.00"|Won|Won|4-Close|Dana|2024-01-16',
    '6f1c-03|x3|2024-03-03|Printers|Litware|2024-02-20|"$4,000.00"|Lost|Out-Sold|3-Propose|Eli|2024-01-17',
    '6f1c-04|x4|2024-03-04|Desks|Contoso|2024-05-30|"$1,500.00"|Open|On Hold|1-Qualify|Eli|2024-01-18',
])  # fmt: skip

# Odoo CRM export: lost deals are archived (Active = False) in the stage they were in.
ODOO = _csv([
    "ID|Opportunity|Customer|Salesperson|Sales Team|Expected Revenue|Probability|Stage|Expected Closing|Created on|Active",
    "__export__.crm_lead_1|Chairs|Deco Addict|Mitchell Admin|Europe|12000.0|100.0|Won|2024-02-01|2024-01-01 08:00:00|True",
    "__export__.crm_lead_2|Tables|Azure Interior|Mitchell Admin|Europe|8000.0|0.0|Qualified|2024-02-10|2024-01-02 08:00:00|False",
    "__export__.crm_lead_3|Lamps|Gemini Furniture|Marc Demo|America|3500.0|30.0|Proposition|2024-04-01|2024-01-03 08:00:00|True",
    "__export__.crm_lead_4|Shelves|Ready Mat|Marc Demo|America|900.0|10.0|New|2024-04-15|2024-01-04 08:00:00|True",
])  # fmt: skip

# Bitrix24 REST export (crm.deal.list fields): STAGE_ID codes with a pipeline prefix.
BITRIX = _csv([
    "ID|TITLE|STAGE_ID|CATEGORY_ID|OPPORTUNITY|CURRENCY_ID|ASSIGNED_BY_ID|DATE_CREATE|CLOSEDATE|CLOSED|SOURCE_ID",
    "11|Сделка #11|WON|0|50000.00|RUB|7|2024-01-10T10:00:00+03:00|2024-02-01T10:00:00+03:00|Y|WEB",
    "12|Сделка #12|LOSE|0|12000.00|RUB|7|2024-01-11T10:00:00+03:00|2024-02-02T10:00:00+03:00|Y|CALL",
    "13|Сделка #13|C1:EXECUTING|1|30000.00|RUB|8|2024-01-12T10:00:00+03:00|2024-04-02T10:00:00+03:00|N|WEB",
    "14|Сделка #14|C1:APOLOGY|1|7000.00|RUB|8|2024-01-13T10:00:00+03:00|2024-02-20T10:00:00+03:00|Y|EMAIL",
    "15|Сделка #15|NEW|0|1000.00|RUB|9|2024-01-14T10:00:00+03:00|2024-05-02T10:00:00+03:00|N|WEB",
])  # fmt: skip

# 纷享销客 商机 export (UTF-8 with BOM): 商机阶段 names its own closed stages.
FXIAOKE = "\ufeff".encode() + _csv([
    "商机名称|客户名称|负责人|商机金额(元)|商机阶段|阶段赢率|结单日期|创建时间|商机来源",
    '华东医院信息化|华东医院|张伟|"¥120,000.00"|赢单|100%|2024-03-01|2024-01-05 10:00|展会',
    '北方物流平台|北方物流|李娜|"¥80,000.00"|输单|0%|2024-03-10|2024-01-06 10:00|官网',
    '南方零售系统|南方零售|张伟|"¥50,000.00"|方案报价|60%|2024-05-01|2024-01-07 10:00|转介绍',
    '西部能源项目|西部能源|王强|"¥30,000.00"|需求确认|30%|2024-06-01|2024-01-08 10:00|官网',
])  # fmt: skip

# 简道云 form data export, GBK, with 万 units; the 结果 column holds the outcome.
JIANDAOYUN = _csv([
    "提交人|提交时间|更新时间|商机名称|客户|销售阶段|预计成交金额|结果|业务员",
    "管理员|2024-01-02 09:00|2024-02-02 09:00|云平台一期|甲公司|商务谈判|12万|赢单|赵敏",
    "管理员|2024-01-03 09:00|2024-02-03 09:00|数据中台|乙公司|方案提交|8万|丢单|赵敏",
    "管理员|2024-01-04 09:00|2024-02-04 09:00|客服系统|丙公司|需求分析|3.5万|跟进中|钱进",
], encoding="gbk")  # fmt: skip

# 销售易 机会 export.
XIAOSHOUYI = _csv([
    "机会名称|客户名称|所有人|销售阶段|销售金额|赢率|结单日期|创建日期|机会类型",
    "智慧园区|恒通集团|周杰|赢单|200000|100|2024-02-20|2024-01-01|新客户",
    "门店数字化|万家超市|周杰|输单|150000|0|2024-03-01|2024-01-02|新客户",
    "供应链协同|远航物流|吴磊|谈判审核|90000|80|2024-06-01|2024-01-03|老客户",
    "移动办公|启明科技|吴磊|初步接洽|10000|10|2024-07-01|2024-01-04|新客户",
])  # fmt: skip

# A closed-only win/loss sample (IBM Watson "Sales Win Loss" shape): no stage, Won / Loss.
WIN_LOSS = _csv([
    "Opportunity Number|Supplies Subgroup|Supplies Group|Region|Route To Market|Elapsed Days In Sales Stage|Opportunity Result|Sales Stage Change Count|Total Days Identified Through Closing|Opportunity Amount USD|Client Size By Revenue|Competitor Type",
    "1641984|Exterior Accessories|Car Accessories|Northwest|Fields Sales|76|Won|13|104|0|5|Unknown",
    "1658010|Exterior Accessories|Car Accessories|Pacific|Reseller|63|Loss|2|163|0|3|Unknown",
    "1674737|Motorcycle Parts|Performance & Non-auto|Pacific|Reseller|24|Won|7|82|7750|1|Unknown",
    "1675224|Shelters & RV|Performance & Non-auto|Midwest|Reseller|16|Loss|5|124|0|1|Known",
    "1689785|Exterior Accessories|Car Accessories|Pacific|Reseller|69|Loss|11|91|69756|1|Unknown",
])  # fmt: skip

# No id, no dates: a hand-kept list; owners under "Seller", outcome under "Outcome".
NO_ID_NO_DATES = _csv([
    "Deal|Seller|Outcome|Deal Value",
    'Website redo|Sam|Won|"$4,000"',
    'Website redo|Sam|Lost|"$2,500"',
    "Logo|Ria|Won|$800",
    'SEO retainer|Ria|Open|"$1,200"',
    "Ads|Sam|Lose|$600",
])  # fmt: skip

# Future close dates: a lost deal closed "in the future" is still lost at the export date.
FUTURE_DATES = _csv([
    "Deal ID|Deal Name|Stage|Amount|Created|Close Date",
    "F1|One|Closed Won|100|2024-01-01|2024-02-01",
    "F2|Two|Closed Lost|200|2024-01-02|2031-07-01",
    "F3|Three|Proposal|300|2024-01-03|2030-01-01",
])  # fmt: skip

# Custom open stages whose order only the probability gives (listed out of order).
CUSTOM_PROBABILITY = _csv([
    "Deal ID|Stage|Probability|Amount|Created|Status",
    "P1|Tech check|50%|100|2024-01-01|open",
    "P2|First call|10%|200|2024-01-02|open",
    "P3|Budget agreed|75%|300|2024-01-03|open",
    "P4|Signed off|100%|400|2024-01-04|won",
    "P5|Tech check|50%|500|2024-01-05|open",
    "P6|Parked|0%|600|2024-01-06|lost",
])  # fmt: skip

# Dutch-locale Salesforce report: ';' separated, decimal comma, Dutch stage names, cp1252.
DUTCH = _csv([
    "Eigenaar van opportunity;Accountnaam;Opportunitynaam;Fase;Bedrag;Waarschijnlijkheid (%);Sluitingsdatum;Aanmaakdatum",
    "Jeroen Bakker;Brouwerij Het Anker;Bier café;Gesloten/gewonnen;€ 1.234,56;100;12-3-2024;1-2-2024",
    "Jeroen Bakker;Café De Zwaan;Terras;Gesloten/verloren;€ 2.000,00;0;15-3-2024;2-2-2024",
    "Sofie Maës;Hôtel Léopold;Renovatie;Onderhandeling/Beoordeling;€ 10.500,25;90;30-6-2024;3-2-2024",
    "Sofie Maës;Crème Brûlée BV;Catering;Kwalificatie;€ 750,00;10;30-7-2024;4-2-2024",
], sep=";", encoding="cp1252")  # fmt: skip

CORPUS = (
    Export("salesforce_report_with_history",
           {"sf_report.csv": SALESFORCE_REPORT, "sf_history.csv": SALESFORCE_HISTORY},
           Expected(4, 1, 1, 2, 38000.0)),
    Export("salesforce_api_with_opportunityhistory",
           {"Opportunity.csv": SF_API_OPPORTUNITY, "OpportunityHistory.csv": SF_API_HISTORY},
           Expected(4, 1, 1, 2, 22000.0)),
    Export("hubspot_ui_custom_pipeline", {"hubspot-crm-exports-all-deals.csv": HUBSPOT_UI},
           Expected(5, 2, 1, 2, 4800.0)),
    Export("hubspot_api_names", {"deals.csv": HUBSPOT_API}, Expected(5, 2, 1, 2, 3800.0)),
    Export("pipedrive_portuguese", {"negocios.csv": PIPEDRIVE_PT}, Expected(5, 2, 1, 2, 8230.75)),
    Export("zoho", {"Deals_001.csv": ZOHO}, Expected(4, 1, 1, 2, 10000.0)),
    Export("dynamics_365", {"Open Opportunities.csv": DYNAMICS}, Expected(4, 1, 1, 2, 41000.0)),
    Export("odoo", {"crm.lead.csv": ODOO}, Expected(4, 1, 1, 2, 24400.0)),
    Export("bitrix24_api", {"deals_bitrix.csv": BITRIX}, Expected(5, 1, 2, 2, 100000.0)),
    Export("fxiaoke", {"商机.csv": FXIAOKE}, Expected(4, 1, 1, 2, 280000.0)),
    Export("jiandaoyun_gbk", {"商机跟进.csv": JIANDAOYUN}, Expected(3, 1, 1, 1, 235000.0)),
    Export("xiaoshouyi", {"机会.csv": XIAOSHOUYI}, Expected(4, 1, 1, 2, 450000.0)),
    Export("closed_only_win_loss", {"WA_Sales_Win_Loss.csv": WIN_LOSS},
           Expected(5, 2, 3, 0, 77506.0)),
    Export("no_id_no_dates", {"deals.csv": NO_ID_NO_DATES}, Expected(5, 2, 2, 1, 9100.0)),
    Export("future_close_dates", {"future.csv": FUTURE_DATES}, Expected(3, 1, 1, 1, 600.0)),
    Export("custom_stages_probability", {"custom.csv": CUSTOM_PROBABILITY},
           Expected(6, 1, 1, 4, 2100.0)),
    Export("dutch_semicolon_cp1252", {"rapport.csv": DUTCH}, Expected(4, 1, 1, 2, 14484.81)),
)  # fmt: skip
