-- A small client administration as many companies have one: the database the
-- existing-database example maps onto Praclox's privacy policy (see mapping.toml).
-- Dates are plain DATE and naive DATETIME columns in the company's time zone.

CREATE TABLE clients (
    id INTEGER PRIMARY KEY,
    customer_number TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    street TEXT,
    postcode TEXT,
    city TEXT,
    email TEXT,
    phone TEXT,
    created_on DATE NOT NULL,
    ended_on DATE,
    notes TEXT
);

CREATE TABLE contact_persons (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients (id),
    name TEXT NOT NULL,
    job_title TEXT,
    email TEXT,
    phone TEXT,
    birthday DATE,
    created_on DATE NOT NULL,
    ended_on DATE
);

CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients (id),
    number TEXT NOT NULL UNIQUE,
    issued_on DATE NOT NULL,
    amount NUMERIC NOT NULL,
    description TEXT
);

CREATE TABLE website_users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT,
    password_hash TEXT,
    created_at DATETIME NOT NULL,
    closed_at DATETIME
);

CREATE TABLE applicants (
    id INTEGER PRIMARY KEY,
    full_name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    motivation TEXT,
    applied_at DATETIME NOT NULL,
    rejected_at DATETIME
);

-- Clients: 1 ended in 2023 (office details due 1 year later; invoices held 7 years by
-- tax law), 2 ended a month before the sweep (nothing due yet), 3 is current.
INSERT INTO clients VALUES
    (1, 'C-1001', 'Notariskantoor De Vries', 'Kerkstraat 1', '1234 AB', 'Utrecht',
     'info@devries.example', '030-1234567', '2015-03-02', '2023-06-30', 'pays late'),
    (2, 'C-1002', 'Advocatenkantoor Jansen', 'Markt 12', '5611 EB', 'Eindhoven',
     'kantoor@jansen.example', '040-7654321', '2018-09-14', '2025-05-31', NULL),
    (3, 'C-1003', 'Praktijk Bakker', 'Dorpsweg 8', '9711 AA', 'Groningen',
     'post@bakker.example', '050-1112223', '2020-01-06', NULL, NULL);

INSERT INTO contact_persons VALUES
    (1, 1, 'Anna de Vries', 'notaris', 'anna@devries.example', '06-11111111',
     '1970-04-12', '2015-03-02', '2023-06-30'),
    (2, 2, 'Bram Jansen', 'advocaat', 'bram@jansen.example', NULL,
     NULL, '2018-09-14', '2025-05-31'),
    (3, 3, 'Carla Bakker', 'praktijkhouder', 'carla@bakker.example', '06-33333333',
     '1981-11-30', '2020-01-06', NULL);

INSERT INTO invoices VALUES
    (1, 1, '2019-0042', '2019-02-01', 1250.00, 'licence 2019'),
    (2, 1, '2023-0107', '2023-05-01', 1400.00, 'licence 2023'),
    (3, 2, '2025-0211', '2025-04-01', 1500.00, 'licence 2025'),
    (4, 3, '2025-0212', '2025-04-01', 900.00, 'licence 2025');

-- Website users: 1 closed their account 3 months before the sweep (due), 2 closed it a
-- week before (kept a month), 3 still has an account.
INSERT INTO website_users VALUES
    (1, 'dirk@example.nl', 'Dirk Smit', 'x', '2023-01-10 09:00:00', '2025-04-01 12:00:00'),
    (2, 'eva@example.nl', 'Eva Mulder', 'x', '2024-02-20 14:30:00', '2025-06-24 08:00:00'),
    (3, 'femke@example.nl', 'Femke de Boer', 'x', '2024-11-05 10:15:00', NULL);

-- Applicants: 1 rejected 5 months before the sweep (due), 2 rejected a month before, 3 is
-- still in the procedure.
INSERT INTO applicants VALUES
    (1, 'Gert Visser', 'gert@example.nl', '06-44444444', 'I like privacy.',
     '2024-12-01 10:00:00', '2025-02-01 09:00:00'),
    (2, 'Hanna Kok', 'hanna@example.nl', NULL, 'I like tidy databases.',
     '2025-04-15 16:00:00', '2025-06-01 11:00:00'),
    (3, 'Ilse Peters', 'ilse@example.nl', '06-55555555', 'Hire me.',
     '2025-06-20 09:30:00', NULL);
